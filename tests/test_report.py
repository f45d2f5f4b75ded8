"""Tests for the analysts' report (themesift.report).

The end-to-end tests write a real report from a real predictions file and open it in
headless Chromium (tests/browser.py): the DOM after scripts ran must hold plotly's drawn
SVGs, and a local recording proxy must see zero network requests.
"""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from browser import render_page, text_of

from themesift.report import ReportError, build_report, write_report, write_tables
from themesift.report.page import CSP

FIXTURE = Path(__file__).parent / "fixtures" / "report_predictions.csv"
SMALL_GROUP = "Internal Audit"  # 3 rows, 2 classified: below the minimum of 5
XSS = "<script>alert(1)</script>"


# ---------------------------------------------------------------- end to end, in Chromium


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report")
    report = write_report(FIXTURE, out / "report.html", by=["department", "location"], tables_path=out / "tables")
    return report, render_page(out / "report.html"), out


def test_charts_really_drew(rendered) -> None:
    _, page, _ = rendered
    assert page.dom.count('class="main-svg"') >= 3
    for chart in ("chart-volume", "chart-bubble", "chart-by-0", "chart-by-1"):
        start = page.dom.index(f'id="{chart}"')
        assert 'class="main-svg"' in page.dom[start : start + 5000], f"{chart} did not draw"
    assert "Pay & benefits" in text_of(page.dom, "chart-volume")  # axis label drawn in SVG
    assert not [line for line in page.console if "Uncaught" in line or "Error" in line]


def test_heatmap_drawn_and_small_group_suppressed(rendered) -> None:
    report, page, _ = rendered
    drawn = text_of(page.dom, "chart-by-0")
    assert {"Engineering", "Sales"} <= set(drawn)
    assert 'class="heatmaplayer' in page.dom
    assert SMALL_GROUP not in page.dom  # not drawn, not in the chart data, not in tables
    # Support, the next smallest, is hidden too: else Internal Audit = total - the others
    assert "1 group hidden below the minimum size of 5, and 1 more so that it cannot be worked out" in page.dom
    assert set(report.tables["by_department"]["group"]) == {"Engineering", "Sales"}


def test_headline_numbers(rendered) -> None:
    _, page, _ = rendered
    assert text_of(page.dom, "count-comments")[0] == "60"
    assert text_of(page.dom, "count-classified")[0] == "56"
    assert text_of(page.dom, "count-not_classified")[0] == "4"
    assert text_of(page.dom, "count-no_theme")[0] == "4"


def test_comment_text_is_escaped_not_executed(rendered) -> None:
    _, page, out = rendered
    assert XSS not in page.dom  # a real <script> element would serialise like this
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.dom
    assert any(XSS in piece for piece in text_of(page.dom, "examples"))
    assert XSS not in (out / "report.html").read_text(encoding="utf-8")


def test_no_network_requests(rendered) -> None:
    _, page, out = rendered
    assert page.requests == []
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in (out / "report.html").read_text(
        encoding="utf-8"
    )


def test_output_written_atomically(rendered) -> None:
    _, _, out = rendered
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "tables"]


def test_request_detector_sees_requests(tmp_path: Path) -> None:
    page = tmp_path / "fetch.html"
    page.write_text('<html><body><img src="http://example.com/x.png"></body></html>')
    result = render_page(page)
    assert any("example.com" in r for r in result.requests), result.requests


def test_report_csp_blocks_requests(tmp_path: Path) -> None:
    page = tmp_path / "csp.html"
    page.write_text(
        f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '</head><body><img src="http://example.com/x.png"></body></html>'
    )
    assert render_page(page).requests == []


def test_empty_and_single_theme_reports_render(tmp_path: Path) -> None:
    empty = pd.DataFrame({"comment": [], "team": [], "themes": [], "error": []})
    report = build_report(empty, by=["team"])
    assert "No themes found" in report.html and "Plotly.newPlot" not in report.html
    team = '<a href="http://example.com/t">Ops & <b>Co</b></a>'  # plotly would render tags
    single = pd.DataFrame(
        {
            "comment": [f"pay {i}" for i in range(6)],
            "team": [team] * 6,
            "themes": ["pay_benefits:positive"] * 5 + [""],
            "error": [""] * 6,
        }
    )
    (tmp_path / "single.html").write_text(build_report(single, by=["team"]).html)
    page = render_page(tmp_path / "single.html")
    assert page.dom.count('class="main-svg"') >= 3 and page.requests == []
    assert "Pay & benefits" in text_of(page.dom, "chart-volume")
    assert team in text_of(page.dom, "chart-by-0")  # drawn as typed, not as a link
    assert 'xlink:href="http://example.com/t"' not in page.dom  # plotly's SVG link form


# ---------------------------------------------------------------- the numbers


def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comment": ["a", "b", "c", "d", "e", "f", "g"],
            "team": ["x", "x", "x", "y", "y", "y", "z"],
            "themes": [
                "pay:positive; tools:negative",
                "pay:positive",
                "",
                "pay:negative; tools:neutral",
                "tools:negative",
                "",
                "pay:positive",
            ],
            "error": ["", "", "", "", "", "not English", ""],
        }
    )


def test_theme_summary_matches_hand_counts() -> None:
    report = build_report(tiny(), theme_names={})
    summary = report.tables["theme_summary"].set_index("theme")
    assert list(summary.index) == ["pay", "tools"]
    assert summary.loc["pay", ["mentions", "positive", "neutral", "negative"]].tolist() == [4, 3, 0, 1]
    assert summary.loc["tools", ["mentions", "positive", "neutral", "negative"]].tolist() == [3, 0, 1, 2]
    assert summary.loc["pay", "share"] == pytest.approx(4 / 6)
    assert summary.loc["tools", "share"] == pytest.approx(3 / 6)
    assert summary.loc["pay", "net_sentiment"] == pytest.approx(0.5)
    assert summary.loc["tools", "net_sentiment"] == pytest.approx(-2 / 3)
    assert summary.loc["pay", "name"] == "pay"  # unknown ids shown as themselves
    assert ">6</div>" in report.html and ">1</div>" in report.html  # classified, flagged


def test_group_table_and_min_group_size() -> None:
    every = build_report(tiny(), by=["team"], min_group_size=0).tables["by_team"]
    assert every["group"].tolist() == ["x", "y", "z"]
    assert every["n"].tolist() == [3, 2, 1]  # y's flagged row is not counted
    assert every["pay"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert every["tools"].tolist() == pytest.approx([1 / 3, 1.0, 0.0])
    # z (1 comment) is below 2; y is hidden with it, else z = the total minus x and y
    assert build_report(tiny(), by=["team"], min_group_size=2).tables["by_team"]["group"].tolist() == ["x"]
    html = build_report(tiny(), by=["team"], min_group_size=2).html
    assert "1 group hidden below the minimum size of 2, and 1 more so that it cannot be worked out" in html
    assert build_report(tiny(), by=["team"], min_group_size=3).tables["by_team"]["group"].tolist() == ["x"]
    assert "2 groups hidden below the minimum size of 3<" in build_report(tiny(), by=["team"], min_group_size=3).html
    assert build_report(tiny(), by=["team"], min_group_size=4).tables["by_team"].empty


def test_theme_names_default_and_custom() -> None:
    df = tiny().assign(themes=["pay_benefits:positive", "", "", "", "", "", "brand_new:neutral"])
    names = build_report(df).tables["theme_summary"].set_index("theme")["name"]
    assert names["pay_benefits"] == "Pay & benefits" and names["brand_new"] == "brand_new"
    custom = build_report(df, theme_names={"brand_new": "Brand new"}).tables["theme_summary"]
    assert set(custom["name"]) == {"Brand new", "pay_benefits"}


def test_missing_by_column_lists_columns() -> None:
    with pytest.raises(ReportError, match=r"'region' not found \(columns: comment, team, themes, error\)") as exc:
        build_report(tiny(), by=["region"])
    assert isinstance(exc.value, ValueError) and "\n" not in str(exc.value)


def test_not_a_classify_output() -> None:
    with pytest.raises(ReportError, match="not a `themesift classify` output"):
        build_report(tiny().drop(columns=["themes"]))


@pytest.mark.parametrize("bad", ["pay", "pay:very good", "pay positive, tools:negative", 42])
def test_malformed_themes_named_with_row(bad: object) -> None:
    df = tiny().astype({"themes": object})
    df.loc[3, "themes"] = bad
    with pytest.raises(ReportError, match="row 4") as exc:
        build_report(df)
    assert repr(bad)[:20] in str(exc.value) and "\n" not in str(exc.value)


def test_examples_highest_score_first() -> None:
    df = tiny().assign(scores=['{"pay": 0.2}', '{"pay": 0.9}', "", '{"pay": 0.5}', "", "", ""])
    examples = build_report(df, examples_per_theme=2).tables["examples"]
    assert examples[examples["theme"] == "pay"]["comment"].tolist() == ["b", "d"]
    plain = build_report(tiny(), examples_per_theme=2).tables["examples"]
    assert plain[plain["theme"] == "pay"]["comment"].tolist() == ["a", "b"]  # file order


# ---------------------------------------------------------------- file formats


def _fixture_as_jsonl(path: Path) -> Path:
    """The CSV fixture as `classify` writes JSONL: themes a list, scores/evidence objects."""
    with FIXTURE.open(encoding="utf-8") as fh, path.open("w", encoding="utf-8") as out:
        for row in csv.DictReader(fh):
            row["themes"] = [label for label in row["themes"].split("; ") if label]
            row["scores"] = json.loads(row["scores"]) if row["scores"] else None
            row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else None
            row["error"] = row["error"] or None
            out.write(json.dumps(row) + "\n")
    return path


def _assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "xlsx"])
def test_other_formats_give_same_tables(tmp_path: Path, fmt: str) -> None:
    by = ["department", "location"]
    from_csv = write_report(FIXTURE, tmp_path / "csv.html", by=by).tables
    path = _fixture_as_jsonl(tmp_path / "p.jsonl")
    if fmt == "parquet":
        path = tmp_path / "p.parquet"
        pd.read_json(tmp_path / "p.jsonl", lines=True, dtype=False).to_parquet(path)
    elif fmt == "xlsx":
        path = tmp_path / "p.xlsx"
        pd.read_csv(FIXTURE, dtype=str, keep_default_na=False).to_excel(path, index=False)
    _assert_same_tables(from_csv, write_report(path, tmp_path / f"{fmt}.html", by=by).tables)


def test_tables_as_csv_folder_and_xlsx(tmp_path: Path) -> None:
    report = write_report(FIXTURE, tmp_path / "r.html", by=["department"], tables_path=tmp_path / "tables")
    names = {"theme_summary", "by_department", "examples"}
    assert {p.stem for p in (tmp_path / "tables").glob("*.csv")} == names
    summary = pd.read_csv(tmp_path / "tables" / "theme_summary.csv")
    pd.testing.assert_frame_equal(summary, report.tables["theme_summary"], check_dtype=False)
    write_report(FIXTURE, tmp_path / "r.html", by=["department"], tables_path=tmp_path / "t.xlsx")
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert set(sheets) == names
    pd.testing.assert_frame_equal(sheets["by_department"], report.tables["by_department"], check_dtype=False)


def test_xlsx_keeps_formula_like_comments_as_text(tmp_path: Path) -> None:
    df = tiny().assign(comment=['=HYPERLINK("http://x")', "b", "c", "d", "e", "f", "g"])
    write_tables(build_report(df).tables, tmp_path / "t.xlsx")
    cells = [
        c
        for row in openpyxl.load_workbook(tmp_path / "t.xlsx")["examples"].iter_rows()
        for c in row
        if "=HYPERLINK" in str(c.value)
    ]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)  # formula-safe rule


# ---------------------------------------------------------------- redaction


def test_redact_passes_examples_through_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("themesift.nlp.redact")
    fake.redact_batch = lambda texts: [types.SimpleNamespace(text=f"[R]{t}") for t in texts]
    monkeypatch.setitem(sys.modules, "themesift.nlp.redact", fake)
    report = build_report(tiny(), redact=True)
    assert all(c.startswith("[R]") for c in report.tables["examples"]["comment"])
    assert "[R]a" in report.html


def test_redact_without_redactor_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "themesift.nlp.redact", None)
    with pytest.raises(ReportError, match="redaction is not available"):
        build_report(tiny(), redact=True)


def test_redact_with_real_redactor() -> None:
    pytest.importorskip(
        "themesift.nlp.redact", reason="themesift.nlp.redact is not written yet (another worker's part)"
    )
    df = tiny().assign(comment=["Email jane.doe@example.com about pay", "b", "c", "d", "e", "f", "g"])
    report = build_report(df, redact=True)
    assert "jane.doe@example.com" not in report.html and "[EMAIL]" in report.html
    assert "jane.doe@example.com" not in report.tables["examples"].to_csv()


# ---------------------------------------------------------------- issue #19: labels and columns


def test_any_polarity_and_themes_with_spaces() -> None:
    """One label parser (models.labels): a model trained with `conflict`, or with theme names
    holding spaces, writes labels the report reads (the old copy refused both)."""
    df = pd.DataFrame(
        {
            "comment": ["a", "b", "c"],
            "themes": ["food quality:conflict; pay:negative", "food quality:positive", ""],
            "error": ["", "", ""],
        }
    )
    summary = build_report(df, theme_names={}).tables["theme_summary"].set_index("theme")
    assert list(summary.columns[2:7]) == ["positive", "neutral", "negative", "conflict", "share"]
    assert summary.loc["food quality", ["mentions", "positive", "conflict"]].tolist() == [2, 1, 1]
    assert summary.loc["pay", ["mentions", "negative", "conflict"]].tolist() == [1, 1, 0]


def test_text_column_guessed_as_classify_does_plural_and_any_case() -> None:
    df = tiny().rename(columns={"comment": "Reviews"})
    examples = build_report(df, theme_names={}).tables["examples"]
    assert "a" in examples["comment"].tolist()


def _classify_output(tmp_path: Path) -> Path:
    path = tmp_path / "classified.csv"
    tiny().assign(comment=["Pay is low", "Pay is fine", "", "Tools are old", "VPN drops", "x", "Pay"]).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize("case", ["no themes", "by", "themes", "text", "tables"])
def test_report_user_errors_are_one_line_naming_the_flag(tmp_path: Path, capsys, case: str) -> None:
    """Probe R41: every report input error is one line on stderr, rc 2, never a traceback."""
    from themesift.cli import main

    path = _classify_output(tmp_path)
    frame = pd.read_csv(path, keep_default_na=False)
    args, expected = [], ""
    if case == "no themes":
        frame.drop(columns=["themes"]).to_csv(path, index=False)
        expected = "no 'themes' column"
    elif case == "by":
        args, expected = ["--by", "region"], "--by column 'region' not found"
    elif case == "themes":
        frame.loc[1, "themes"] = "pay positive, tools:negative"
        frame.to_csv(path, index=False)
        expected = "row 2"
    elif case == "text":
        frame.rename(columns={"comment": "remarks"}).to_csv(path, index=False)
        expected = "--text-column"
    else:
        args, expected = ["--tables", str(tmp_path / "t.txt")], "tables path 't.txt'"
    rc = main(["report", str(path), "-o", str(tmp_path / "r.html"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and expected in err, err
    assert err.startswith("themesift report: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_reviews_column_of_a_classified_excel_export(tmp_path: Path, default_model) -> None:
    """Issue #19: classify an Excel export whose comments are in `Reviews`, then report on it."""
    from themesift.cli import main

    source = tmp_path / "export.xlsx"
    pd.DataFrame(
        {"Store": ["Leeds", "York"], "Reviews": ["The staff were friendly and quick.", "Prices went up again."]}
    ).to_excel(source, index=False)
    assert main(["classify", str(source), "-o", str(tmp_path / "out.xlsx"), "--quiet"]) == 0
    report = write_report(tmp_path / "out.xlsx", tmp_path / "r.html", by=["Store"], min_group_size=1)
    assert set(report.tables["examples"]["comment"]) <= {"The staff were friendly and quick.", "Prices went up again."}
    assert not report.tables["examples"].empty
    assert main(["report", str(tmp_path / "out.xlsx"), "-o", str(tmp_path / "r2.html")]) == 0


def test_themes_with_spaces_and_conflict_train_classify_report(tmp_path: Path) -> None:
    """Probe R43 and `--polarities …,conflict`: what train accepts, classify writes and the report reads."""
    from themesift.cli import main

    rows = [
        ("The soup was cold", "food quality:negative"),
        ("Lovely soup", "food quality:positive"),
        ("Waiter was rude", "table service:negative"),
        ("Kind waiter", "table service:positive"),
        ("Soup fine, the waiter less so", "food quality:conflict"),
    ] * 8
    data = tmp_path / "train.csv"
    pd.DataFrame({"text": [f"{t} {i}" for i, (t, _) in enumerate(rows)], "labels": [lab for _, lab in rows]}).to_csv(
        data, index=False
    )
    model = tmp_path / "model"
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--output",
                str(model),
                "--param",
                "min_df=1",
                "--polarities",
                "positive,negative,neutral,conflict",
            ]
        )
        == 0
    )
    comments = tmp_path / "comments.csv"
    pd.DataFrame({"comment": ["The soup was cold 1", "Kind waiter 3", "Soup fine, the waiter less so 4"]}).to_csv(
        comments, index=False
    )
    assert (
        main(
            [
                "classify",
                str(comments),
                "-o",
                str(tmp_path / "out.csv"),
                "--model",
                str(model),
                "--quiet",
                "--no-language-check",
            ]
        )
        == 0
    )
    classified = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert "food quality:negative" in classified["themes"][0]
    assert (
        main(
            ["report", str(tmp_path / "out.csv"), "-o", str(tmp_path / "r.html"), "--tables", str(tmp_path / "tables")]
        )
        == 0
    )
    summary = pd.read_csv(tmp_path / "tables" / "theme_summary.csv")
    assert "food quality" in set(summary["theme"])
