"""Discover (themesift.analysis.discover): real comments grouped into topics by the shipped
encoder, the same topics run after run, uncovered comments only on request, bad input one line."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import SHARED, read_jsonl
from themesift.analysis.discover import discover, embed_texts

POOL = SHARED / "data" / "employee-reviews" / "pool.jsonl"


@pytest.fixture(scope="module")
def comments():
    if not POOL.is_file():
        pytest.skip(f"shared data not found at {POOL}")
    return [r["text"] for r in read_jsonl(POOL, limit=600) if r.get("field") in ("pros", "cons")][:300]


@pytest.fixture(scope="module")
def vectors(comments):
    return embed_texts(comments)


def test_topics_are_described_and_reproducible(comments, vectors):
    labels = [["pay_benefits:negative"] if "pay" in t.lower() else [] for t in comments]
    first = discover(comments, labels, n_topics=6, vectors=vectors)
    again = discover(comments, labels, n_topics=6, vectors=embed_texts(comments))  # embedded anew
    assert first.attrs["topics"] == again.attrs["topics"]
    assert list(first.columns) == ["topic", "size", "share", "keywords", "examples", "themes", "uncovered_share"]
    assert first["size"].sum() == 300 and first["size"].is_monotonic_decreasing
    assert first["share"].sum() == pytest.approx(1.0)
    assert all(len(k.split(", ")) >= 3 for k in first["keywords"])
    examples = first.iloc[0]["examples"].split(" | ")
    assert len(examples) == 3 and all(e in comments for e in examples)
    pay_topic = first[first["themes"].str.contains("pay_benefits")].sort_values("uncovered_share").iloc[0]
    assert "pay" in pay_topic["keywords"]


def test_uncovered_only_keeps_comments_without_a_theme(comments, vectors):
    labels = [["pay_benefits:negative"] if i % 2 else [] for i in range(len(comments))]
    table = discover(comments, labels, n_topics="auto", uncovered_only=True, vectors=vectors)
    assert table.attrs["comments"] == 150 and (table["uncovered_share"] == 1.0).all()
    assert set(table.attrs["rows"]) == set(range(0, 300, 2))
    assert 5 <= table.attrs["n_topics"] <= 25


def test_cli_discover_on_a_classified_file(comments, tmp_path, capsys):
    from themesift.cli import main

    frame = pd.DataFrame({"comment": comments[:120], "themes": "", "error": ""})
    frame.loc[0, "error"] = "empty comment"
    src, out = tmp_path / "classified.csv", tmp_path / "topics.csv"
    frame.to_csv(src, index=False)
    assert main(["discover", str(src), "--topics", "4", "--seed", "3", "-o", str(out)]) == 0
    assert "119 comments in 4 topics" in capsys.readouterr().out
    assert len(pd.read_csv(out)) == 4
    assert main(["discover", str(src), "--topics", "many"]) == 2
    assert "--topics: expected a whole number or 'auto'" in capsys.readouterr().err
    frame.head(2).to_csv(src, index=False)
    assert main(["discover", str(src)]) == 2
    assert "too few to find topics" in capsys.readouterr().err


def test_cli_discover_report_opens_offline(comments, tmp_path):
    from browser import render_page

    from themesift.cli import main

    src = tmp_path / "classified.csv"
    pd.DataFrame({"comment": comments[:100], "themes": "", "error": ""}).to_csv(src, index=False)
    page_path = tmp_path / "topics.html"
    assert main(["discover", str(src), "--topics", "4", "--report", str(page_path)]) == 0
    page = render_page(page_path)
    start = page.dom.index('id="chart-topics"')
    assert 'class="main-svg"' in page.dom[start : start + 5000]
    assert page.requests == [] and page.dom.count('id="topic-') == 4
