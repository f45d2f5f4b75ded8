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
    for cmd in (
        "",
        "predict",
        "classify",
        "train",
        "evaluate",
        "cv",
        "report",
        "serve",
        "spark-classify",
        "drivers",
        "trends",
        "link",
        "discover",
    ):
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


def test_predict_with_bytes_that_are_not_utf8_in_argv(default_model):
    """Probe H59: a cp1252 'é' on the command line reached the tokenizer as a lone surrogate."""
    exe = Path(sys.executable).with_name("themesift")
    proc = subprocess.run([str(exe), "predict", b"caf\xe9 pay is bad"], capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    line = json.loads(proc.stdout.decode("utf-8"))
    assert line["text"] == "café pay is bad" and "pay_benefits:negative" in line["labels"]
    assert "cp1252" in line["warning"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_classify_keeps_every_row_and_column_in_order(tmp_path, default_model, suffix):
    source = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    src = tmp_path / f"in{suffix}"
    {
        ".csv": lambda: shutil.copy(EXAMPLE, src),
        ".jsonl": lambda: source.to_json(src, orient="records", lines=True),
        ".parquet": lambda: source.to_parquet(src),
        ".xlsx": lambda: source.to_excel(src, index=False),
    }[suffix]()
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(src), "-o", str(out), "--text-column", "comment", "--quiet"]) == 0
    got = {
        ".csv": lambda: pd.read_csv(out, dtype=str, keep_default_na=False),
        ".jsonl": lambda: pd.read_json(out, lines=True, dtype=False),
        ".parquet": lambda: pd.read_parquet(out),
        ".xlsx": lambda: pd.read_excel(out, dtype=str).fillna(""),
    }[suffix]()
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
        assert r["comment"][int(r["evidence_start"]) : int(r["evidence_end"])] == r["evidence"]


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
    rows = [
        ("The food was cold", "food:negative"),
        ("Lovely food", "food:positive"),
        ("Waiter was rude", "service:negative"),
        ("Friendly waiter", "service:positive"),
        ("Cold food, rude waiter", "food:negative;service:negative"),
        ("We came on a Tuesday", ""),
    ] * 6
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


# ---------------------------------------------------------------- issue #19: evaluate and shared flags

RESTAURANT = Path(__file__).parent / "fixtures" / "train_restaurant.csv"  # id, comment, food, service, price


@pytest.fixture(scope="module")
def restaurant_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("restaurant") / "model"
    assert main(["train", "--data", str(RESTAURANT), "--output", str(out)]) == 0
    return out


def test_evaluate_theme_columns_with_an_id_column(tmp_path, restaurant_model):
    """Evaluate reads labels as train does, taking the theme columns from the model: an id or a
    department column beside them no longer makes the file unreadable."""
    plain = tmp_path / "plain.json"
    assert main(["evaluate", "--model", str(restaurant_model), "--data", str(RESTAURANT), "--json", str(plain)]) == 0
    frame = pd.read_csv(RESTAURANT, keep_default_na=False)
    frame.insert(0, "respondent_id", [f"R-{i:04d}" for i in range(len(frame))])
    frame["department"] = ["Front of house", "Kitchen"] * (len(frame) // 2) + ["Kitchen"] * (len(frame) % 2)
    extra = tmp_path / "extra.xlsx"
    frame.to_excel(extra, index=False)
    scored = tmp_path / "extra.json"
    assert main(["evaluate", "--model", str(restaurant_model), "--data", str(extra), "--json", str(scored)]) == 0
    assert json.loads(scored.read_text()) == json.loads(plain.read_text())


def test_evaluate_output_folder_checked_before_the_work(tmp_path, capsys, restaurant_model):
    rc = main(
        [
            "evaluate",
            "--model",
            str(restaurant_model),
            "--data",
            str(RESTAURANT),
            "--json",
            str(tmp_path / "nodir" / "x.json"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "--json" in err and "does not exist" in err and err.count("\n") == 1


def test_every_command_shares_the_input_flags():
    from themesift.cli import build_parser

    parser = build_parser()
    spark = parser.parse_args(["spark-classify", "in.parquet", "-o", "out"])
    assert spark.text_column is None  # detected, as classify does (was "text")
    for cmd in (
        ["ensemble", "--member", "a", "--member", "b", "--dev", "d", "-o", "o"],
        ["soup", "--member", "a", "--member", "b", "--dev", "d", "-o", "o"],
        ["evaluate", "--data", "d"],
        ["cv", "--data", "d"],
        ["train", "--data", "d", "-o", "o"],
    ):
        args = parser.parse_args(
            [
                *cmd,
                "--label-columns",
                "food,price",
                "--polarities",
                "positive,negative",
                "--text-column",
                "comment",
                "--labels-column",
                "gold",
            ]
        )
        assert (args.label_columns, args.polarities, args.text_column, args.labels_column) == (
            "food,price",
            "positive,negative",
            "comment",
            "gold",
        ), cmd
    assert parser.parse_args(["classify", "i.csv", "-o", "o.csv"]).text_column is None
    assert parser.parse_args(["report", "p.csv", "-o", "r.html"]).text_column is None


def test_ensemble_reads_dev_with_label_columns(tmp_path, restaurant_model):
    """`ensemble --label-columns`: a dev file whose theme columns sit beside a non-polarity column."""
    other = tmp_path / "other"
    assert (
        main(["train", "--data", str(RESTAURANT), "--output", str(other), "--seed", "1", "--param", "ngram_max=1"]) == 0
    )
    frame = pd.read_csv(RESTAURANT, keep_default_na=False)
    frame["notes"] = "free text"
    dev = tmp_path / "dev.csv"
    frame.to_csv(dev, index=False)
    out = tmp_path / "ens"
    assert (
        main(
            [
                "ensemble",
                "--member",
                str(restaurant_model),
                "--member",
                str(other),
                "--dev",
                str(dev),
                "--label-columns",
                "food,service,price",
                "--text-column",
                "comment",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads((out / "metrics.json").read_text())["dev"]["n"] == len(frame)
