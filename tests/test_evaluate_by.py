"""``themesift evaluate --by COLUMN``: per-segment scores from one real tfidf model on real files,
checked against scoring each segment's rows on their own, in the terminal, the JSON and the page."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from html_tables import HtmlTables

from themesift.cli import main
from themesift.models.registry import load_artifact, make_model
from themesift.training.data import load_labeled
from themesift.training.evaluate import (
    BLANK_SEGMENT,
    evaluate_by,
    evaluate_label_sets,
    evaluate_model,
    evaluate_segments,
    format_metrics,
    format_segments,
    read_segments,
)

RESTAURANT = Path(__file__).parent / "fixtures" / "train_restaurant.csv"
THEMES = ["--text-column", "comment", "--label-columns", "food,service,price"]
SOURCES = ["web", "app", "", "Email", "<i>partner</i>", "   "]  # "" and blanks: one visible segment


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict:
    """A tfidf model fit on the first 170 restaurant rows; the other 60 with two segment columns."""
    tmp = tmp_path_factory.mktemp("by")
    frame = pd.read_csv(RESTAURANT, keep_default_na=False, dtype=str)
    fit = frame.iloc[:170]
    held = frame.iloc[170:].reset_index(drop=True)
    held["source"] = [SOURCES[i % len(SOURCES)] for i in range(len(held))]
    held["industry"] = ["retail" if i % 3 else "hospitality" for i in range(len(held))]
    held.to_csv(tmp / "eval.csv", index=False)
    fit.to_csv(tmp / "train.csv", index=False)
    train = load_labeled(tmp / "train.csv", text_column="comment")
    model_dir = make_model("tfidf").fit(train.texts, train.label_sets).save(tmp / "model")
    data = load_labeled(tmp / "eval.csv", text_column="comment", label_columns=["food", "service", "price"])
    return {
        "tmp": tmp,
        "eval": tmp / "eval.csv",
        "model_dir": model_dir,
        "model": load_artifact(model_dir),
        "data": data,
        "frame": held,
    }


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def test_segments_partition_the_rows_and_score_like_their_rows_alone(setup):
    model, data, frame = setup["model"], setup["data"], setup["frame"]
    segments = read_segments(setup["eval"], ["source", "industry"], n_rows=len(data))
    metrics = evaluate_by(model, data.texts, data.label_sets, segments)
    overall = evaluate_model(model, data.texts, data.label_sets)
    assert {k: v for k, v in metrics.items() if k != "by"} == overall  # the overall figure is the existing one
    # sorted, blank last
    assert list(metrics["by"]["source"]) == ["<i>partner</i>", "app", "Email", "web", BLANK_SEGMENT]
    assert list(metrics["by"]["industry"]) == ["hospitality", "retail"]
    n_blank = int(frame["source"].str.strip().eq("").sum())
    assert n_blank >= 10 and metrics["by"]["source"][BLANK_SEGMENT]["n"] == n_blank  # kept, not dropped
    for column in ("source", "industry"):
        assert sum(m["n"] for m in metrics["by"][column].values()) == len(data)
        for name, m in metrics["by"][column].items():
            rows = [i for i, value in enumerate(frame[column]) if (value.strip() or BLANK_SEGMENT) == name]
            texts = [data.texts[i] for i in rows]
            gold = [data.label_sets[i] for i in rows]
            assert m == evaluate_label_sets(gold, model.predict(texts), themes=model.themes)  # predicted on its own
    # a segment's figures differ from the overall ones: the split is real, not a copy
    assert {m["theme_polarity"]["micro"]["f1"] for m in metrics["by"]["source"].values()} != {
        overall["theme_polarity"]["micro"]["f1"]
    }


def test_the_model_predicts_once_for_all_segments(setup):
    class Counting:
        def __init__(self, model):
            self.model, self.calls = model, 0
            self.themes = model.themes

        def predict(self, texts):
            self.calls += 1
            return self.model.predict(texts)

    data = setup["data"]
    counting = Counting(setup["model"])
    segments = read_segments(setup["eval"], ["source", "industry"])
    evaluate_by(counting, data.texts, data.label_sets, segments)
    assert counting.calls == 1


def test_blank_values_from_jsonl_are_one_segment(tmp_path):
    rows = [
        {"text": "a", "region": "north"},
        {"text": "b", "region": None},
        {"text": "c", "region": ""},
        {"text": "d"},
        {"text": "e", "region": " north "},
        {"text": "f", "region": 3},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert read_segments(path, ["region", "Region"]) == {
        "region": ["north", BLANK_SEGMENT, BLANK_SEGMENT, BLANK_SEGMENT, "north", "3"]
    }
    by = evaluate_segments([["x"]] * 6, [["x"], [], ["x"], [], ["x"], ["x"]], read_segments(path, ["region"]))
    assert {name: m["n"] for name, m in by["region"].items()} == {"3": 1, "north": 2, BLANK_SEGMENT: 3}
    assert by["region"][BLANK_SEGMENT]["theme"]["micro"]["recall"] == round(1 / 3, 4)


def test_cli_prints_and_writes_the_segments(setup):
    out = setup["tmp"] / "by.json"
    rc, stdout, _ = _cli(
        "evaluate",
        "--model",
        str(setup["model_dir"]),
        "--data",
        str(setup["eval"]),
        "--by",
        "source",
        "--by",
        "industry",
        "--json",
        str(out),
        *THEMES,
    )
    assert rc == 0
    metrics = json.loads(out.read_text("utf-8"))
    data, model = setup["data"], setup["model"]
    assert metrics == evaluate_by(
        model, data.texts, data.label_sets, read_segments(setup["eval"], ["source", "industry"])
    )
    headline, _, tables = stdout.partition("\n\nby source:")
    assert headline == format_metrics(metrics)  # the usual output is unchanged, the tables follow it
    assert stdout.rstrip("\n").endswith(format_segments(metrics))
    for column in ("source", "industry"):
        block = tables if column == "source" else tables[tables.index("by industry:") :]
        rows = block.split("\n\n")[0].splitlines()[3:]  # title, two header lines, then one line per segment
        shown = list(metrics["by"][column].items()) + [("(overall)", metrics)]
        assert len(rows) == len(shown)
        for row, (name, m) in zip(rows, shown):
            cells = row.rsplit(maxsplit=9)
            assert cells[0] == name and cells[1] == str(m["n"])
            assert cells[4] == f"{m['theme']['micro']['f1']:.3f}"
            assert cells[8] == f"{m['theme_polarity']['micro']['f1']:.3f}"


def test_a_missing_column_is_one_line_naming_the_flag(setup):
    rc, stdout, stderr = _cli(
        "evaluate", "--model", str(setup["model_dir"]), "--data", str(setup["eval"]), "--by", "industy", *THEMES
    )
    assert rc == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("themesift evaluate: error: --by: no column 'industy'; columns are ")
    for column in ("id", "comment", "source", "industry"):
        assert repr(column) in stderr
    assert "did you mean 'industry'" in stderr


def test_help_describes_by(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--help"])
    assert exit_info.value.code == 0
    assert "--by COLUMN" in capsys.readouterr().out


def test_report_shows_a_table_per_column(setup):
    report, out = setup["tmp"] / "r.html", setup["tmp"] / "r.json"
    rc, stdout, _ = _cli(
        "evaluate",
        "--model",
        str(setup["model_dir"]),
        "--data",
        str(setup["eval"]),
        "--by",
        "source",
        "--by",
        "industry",
        "--report",
        str(report),
        "--json",
        str(out),
        *THEMES,
    )
    assert rc == 0
    metrics = json.loads(out.read_text("utf-8"))
    data = setup["data"]
    expected = evaluate_by(
        setup["model"], data.texts, data.label_sets, read_segments(setup["eval"], ["source", "industry"])
    )
    assert metrics["by"] == expected["by"]  # the report's predictions give the same segment scores
    assert stdout.rstrip("\n").endswith(format_segments(metrics))
    html = report.read_text("utf-8")
    assert 'id="by-segment"' in html
    assert "<i>partner</i>" not in html and "&lt;i&gt;partner&lt;/i&gt;" in html  # segment names are escaped
    parser = HtmlTables()
    parser.feed(html)
    assert [parser.columns["by-0"], parser.columns["by-1"]] == ["source", "industry"]
    for table_id, column in (("by-0", "source"), ("by-1", "industry")):
        header, *rows = parser.tables[table_id]
        assert header[:5] == ["segment", "n", "theme micro P", "theme micro R", "theme micro F1"]
        shown = list(metrics["by"][column].items()) + [("(overall)", metrics)]
        assert [r[0] for r in rows] == [name for name, _ in shown]
        for row, (_, m) in zip(rows, shown):
            assert row[1] == str(m["n"])
            assert row[2:5] == [f"{m['theme']['micro'][k]:.3f}" for k in ("precision", "recall", "f1")]
            assert row[5] == f"{m['theme']['macro']['f1']:.3f}"
            assert row[6:9] == [f"{m['theme_polarity']['micro'][k]:.3f}" for k in ("precision", "recall", "f1")]
            assert row[9] == f"{m['theme_polarity']['macro']['f1']:.3f}"
