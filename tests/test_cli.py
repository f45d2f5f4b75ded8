"""The themesift command end to end: real files in every format, real default model."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXAMPLES
from themesift.cli import main

EXAMPLE = EXAMPLES / "comments.csv"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    exe = Path(sys.executable).with_name("themesift")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)


def test_help_on_every_command():
    for cmd in ("", "predict", "classify", "train", "evaluate", "cv", "report", "serve", "spark-classify"):
        proc = run_cli(*([cmd] if cmd else []), "--help")
        assert proc.returncode == 0, proc.stderr
        assert "usage: themesift" in proc.stdout


def test_predict_prints_one_json_line_per_text(default_model):
    proc = run_cli("predict", "The pay is awful.", "")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["text"] for x in lines] == ["The pay is awful.", ""]
    assert "pay_benefits:negative" in lines[0]["labels"]
    assert lines[1]["error"] == "empty comment"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_classify_keeps_every_row_and_column_in_order(tmp_path, default_model, suffix):
    source = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    src = tmp_path / f"in{suffix}"
    {".csv": lambda: shutil.copy(EXAMPLE, src), ".jsonl": lambda: source.to_json(src, orient="records", lines=True),
     ".parquet": lambda: source.to_parquet(src), ".xlsx": lambda: source.to_excel(src, index=False)}[suffix]()
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(src), "-o", str(out), "--text-column", "comment", "--quiet"]) == 0
    got = {".csv": lambda: pd.read_csv(out, dtype=str, keep_default_na=False),
           ".jsonl": lambda: pd.read_json(out, lines=True, dtype=False),
           ".parquet": lambda: pd.read_parquet(out), ".xlsx": lambda: pd.read_excel(out, dtype=str).fillna("")}[suffix]()
    assert list(got.columns[:3]) == ["id", "department", "comment"]
    assert {"themes", "scores", "error", "warning"} <= set(got.columns)
    assert [str(x) for x in got["id"]] == [str(x) for x in source["id"]]
    assert list(got["comment"].fillna("")) == list(source["comment"])
    themes = got["themes"].tolist()
    as_list = lambda v: list(v) if not isinstance(v, str) else [x for x in v.split("; ") if x]  # noqa: E731
    assert "pay_benefits:negative" in as_list(themes[1])
    assert got["error"].tolist()[5] == "empty comment"  # row 6 has no comment: kept and flagged


def test_classify_wide_and_long_layouts(tmp_path, default_model):
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    assert main(["classify", str(EXAMPLE), "-o", str(wide), "--layout", "wide", "--quiet"]) == 0
    w = pd.read_csv(wide, dtype=str, keep_default_na=False)
    assert len(w) == 10 and "theme_pay_benefits" in w.columns
    assert w.loc[1, "theme_pay_benefits"] == "negative"
    assert main(["classify", str(EXAMPLE), "-o", str(long), "--layout", "long", "--quiet"]) == 0
    lg = pd.read_csv(long, keep_default_na=False)
    assert sorted(set(lg["row"])) == list(range(10))  # every input row appears
    assert lg["row"].is_monotonic_increasing
    for _, r in lg[lg["theme"] != ""].iterrows():  # offsets point at the evidence in the comment
        assert r["comment"][int(r["evidence_start"]):int(r["evidence_end"])] == r["evidence"]


def test_missing_text_column_lists_the_columns(tmp_path, capsys):
    code = main(["classify", str(EXAMPLE), "-o", str(tmp_path / "o.csv"), "--text-column", "body", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "body" in err and "comment" in err and "department" in err
    assert not (tmp_path / "o.csv").exists()


def test_unknown_file_type_is_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / "notes.doc"
    bad.write_text("hello")
    proc = run_cli("classify", str(bad), "-o", str(tmp_path / "o.csv"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and ".doc" in proc.stderr


def test_malformed_labels_name_row_and_value(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("text,labels\nGood pay,pay:positive\nBad boss,boss:furious\n")
    proc = run_cli("train", "--data", str(data), "--output", str(tmp_path / "m"))
    assert proc.returncode == 2
    assert "row 2" in proc.stderr and "boss:furious" in proc.stderr and "Traceback" not in proc.stderr


def test_train_and_evaluate_a_user_taxonomy(tmp_path):
    rows = [("The food was cold", "food:negative"), ("Lovely food", "food:positive"),
            ("Waiter was rude", "service:negative"), ("Friendly waiter", "service:positive"),
            ("Cold food, rude waiter", "food:negative;service:negative"), ("We came on a Tuesday", "")] * 6
    data = tmp_path / "mine.csv"
    pd.DataFrame(rows, columns=["text", "labels"]).to_csv(data, index=False)
    out = tmp_path / "model"
    assert main(["train", "--data", str(data), "--output", str(out), "--param", "min_df=1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["train"]["hash"].startswith("sha256:")
    assert {"seed", "versions", "hardware", "training_seconds", "thresholds"} <= set(metrics)
    assert (out / "README.md").read_text().startswith("# themesift model")
    report = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(out), "--data", str(data), "--json", str(report)]) == 0
    scores = json.loads(report.read_text())
    assert scores["theme_polarity"]["micro"]["f1"] > 0.9
