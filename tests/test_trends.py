"""Trends (themesift.analysis.trends): a planted change is found, a null stays quiet, dates in
export formats are read (and the ambiguous ones refused), and the CLI works on a real file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themesift.analysis import parse_dates, trends
from themesift.analysis.drivers import AnalysisError


@pytest.fixture(scope="module")
def real_label_sets(gold_train):
    return [r["labels"] for r in gold_train[:2000]]


def _months(rng, n):
    return [f"2026-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 5, n), rng.integers(1, 29, n))]


def test_planted_change_is_found_with_an_interval_that_covers_it(real_label_sets):
    rng = np.random.default_rng(4)
    dates = _months(rng, len(real_label_sets))
    # from March on, 20 % more comments carry pay_benefits:negative (real comments, relabelled)
    planted = [
        sorted(set(labels) | {"pay_benefits:negative"}) if d >= "2026-03" and rng.random() < 0.2 else labels
        for labels, d in zip(real_label_sets, dates)
    ]
    planted = [
        [lab for lab in labels if lab != "pay_benefits:positive" or "pay_benefits:negative" not in labels]
        for labels in planted
    ]
    table = trends(planted, dates, period="month")
    march = table[(table["label"] == "pay_benefits:negative") & (table["period"] == "2026-03")].iloc[0]
    assert march["q_value"] < 0.05 and march["ci_low"] > 0.1
    others = table[(table["period"] != "2026-03") & (table["label"] == "pay_benefits:negative")]
    assert (others["q_value"].dropna() >= 0.05).all()  # no change between Jan-Feb or Mar-Apr


def test_null_flags_at_most_five_percent(real_label_sets):
    rng = np.random.default_rng(5)
    flagged = []
    for _ in range(8):
        table = trends(real_label_sets, _months(rng, len(real_label_sets)), period="month")
        flagged += list(table["q_value"].dropna() < 0.05)
    assert np.mean(flagged) <= 0.05


def test_dates_in_export_formats():
    stamps, bad = parse_dates(
        [
            "2026-03-14",
            "2026-03-14T09:30:00Z",
            "14/03/2026",
            "01/03/26",
            46095,
            pd.Timestamp("2026-03-02"),
            "next Tuesday",
            "",
            None,
        ]
    )
    assert [s.strftime("%Y-%m-%d") for s in stamps[:6]] == [
        "2026-03-14",
        "2026-03-14",
        "2026-03-14",
        "2026-03-01",
        "2026-03-14",
        "2026-03-02",
    ]
    assert bad == [7, 8, 9]
    month_first, _ = parse_dates(["03/14/2026", "03/01/2026"])
    assert [s.strftime("%Y-%m-%d") for s in month_first] == ["2026-03-14", "2026-03-01"]
    with pytest.raises(AnalysisError, match="--dayfirst or --monthfirst"):
        parse_dates(["03/04/2026", "05/06/2026"])
    assert parse_dates(["03/04/2026"], dayfirst=True)[0][0] == pd.Timestamp("2026-04-03")


def test_quarters_and_left_out_rows():
    labels = [["pay:negative"], [], None, ["pay:negative"], []]
    table = trends(labels, ["2026-01-05", "2026-02-01", "2026-04-01", "2026-04-09", "soon"], period="quarter")
    assert table.attrs["comments_per_period"] == {"2026Q1": 2, "2026Q2": 1}  # None: not classified
    assert table.attrs["excluded_rows"] == [5]
    q2 = table[table["period"] == "2026Q2"].iloc[0]
    assert q2["share"] == 1.0 and q2["previous_share"] == 0.5


def test_cli_trends(tmp_path, capsys, real_label_sets):
    from themesift.cli import main

    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "themes": ["; ".join(x) for x in real_label_sets[:600]],
            "submitted": [f"{d:02d}/{m:02d}/2026" for d, m in zip(rng.integers(13, 29, 600), rng.integers(1, 4, 600))],
            "error": "",
        }
    )
    frame.loc[7, "submitted"] = "n/a"
    src, out = tmp_path / "classified.csv", tmp_path / "trends.xlsx"
    frame.to_csv(src, index=False)
    assert main(["trends", str(src), "--time", "submitted", "--period", "month", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "comments per month: 2026-01" in printed and "(rows 8)" in printed
    table = pd.read_excel(out)
    assert set(table["period"]) == {"2026-01", "2026-02", "2026-03"}
    assert main(["trends", str(src), "--time", "when"]) == 2
    assert "--time: no column 'when'" in capsys.readouterr().err


def test_a_column_without_dates_is_refused():
    with pytest.raises(AnalysisError, match="no cell of the date column is a date"):
        trends([["pay:negative"], []], [4, 5])
