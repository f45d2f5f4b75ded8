"""The report's analysis sections (executive summary, drivers, trends, groups against the rest),
written by the real CLI from a real predictions file and opened in headless Chromium: every chart
drawn, no network request, small groups (and their complements) nowhere on the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import render_page, text_of

FIXTURE = Path(__file__).parent / "fixtures" / "report_predictions.csv"
SMALL_GROUP = "Internal Audit"  # 12 classified comments, under 15: hidden, and Support (the next smallest) with it


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    from themesift.cli import main

    out = tmp_path_factory.mktemp("report-analysis")
    frame = pd.concat([pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)] * 6, ignore_index=True)  # 360 rows
    rng = np.random.default_rng(0)
    pay_negative = frame["themes"].str.contains("pay_benefits:negative")
    frame["rating"] = np.where(pay_negative, rng.integers(1, 3, len(frame)), rng.integers(3, 6, len(frame))).astype(str)
    frame.loc[3, "rating"] = "n/a"
    frame["submitted"] = [f"2026-{m:02d}-10" for m in rng.integers(1, 7, len(frame))]  # no change planted
    src = out / "predictions.csv"
    frame.to_csv(src, index=False)
    args = ["report", str(src), "-o", str(out / "report.html"), "--by", "department", "--score", "rating"]
    args += ["--time", "submitted", "--tables", str(out / "tables"), "--min-group-size", "15"]
    assert main(args) == 0
    return render_page(out / "report.html"), out


def test_every_analysis_chart_draws_offline(rendered) -> None:
    page, _ = rendered
    for chart in ("chart-drivers", "chart-trends", "chart-groups-0"):
        start = page.dom.index(f'id="{chart}"')
        assert 'class="main-svg"' in page.dom[start : start + 5000], f"{chart} did not draw"
    assert page.requests == []
    assert not [line for line in page.console if "Uncaught" in line or "Error" in line]


def test_executive_summary_comes_first_with_numbers_and_intervals(rendered) -> None:
    page, _ = rendered
    assert page.dom.index('id="executive-summary"') < page.dom.index('id="volume"')
    summary = " ".join(text_of(page.dom, "executive-summary"))
    for head in ("Strengths:", "Concerns:", "Biggest drivers:", "Biggest movers:", "By department:"):
        assert head in summary
    assert "Pay & benefits (negative) lowers rating by" in summary  # the planted driver, with its interval
    assert "%–" in summary and "no significant change from 2026Q1 to 2026Q2" in summary


def test_hidden_groups_stay_hidden_in_the_analysis(rendered) -> None:
    page, out = rendered
    assert SMALL_GROUP not in page.dom and ">Support<" not in page.dom
    groups = pd.read_csv(out / "tables" / "groups_department.csv")
    assert set(groups.loc[~groups["suppressed"], "group"]) == {"Engineering", "Sales"}
    drivers = pd.read_csv(out / "tables" / "drivers.csv")
    assert {"label", "impact", "ci_low", "ci_high", "q_value"} <= set(drivers.columns)


def test_report_analysis_errors_are_one_line(tmp_path, capsys) -> None:
    from themesift.cli import main

    assert main(["report", str(FIXTURE), "-o", str(tmp_path / "r.html"), "--score", "nps"]) == 2
    assert "--score: no column 'nps'" in capsys.readouterr().err
