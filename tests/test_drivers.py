"""Drivers (themesift.analysis): planted effects recovered with honest intervals, a null that stays
quiet, a validity check on real reviews with sub-ratings, and the CLI on a real file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED, read_jsonl
from themesift.analysis import drivers, parse_scores
from themesift.analysis.drivers import AnalysisError, label_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from drivers_validity import OWN_SUBRATING, SUBRATINGS  # noqa: E402  (one list of the checked labels)

POOL = SHARED / "data" / "employee-reviews" / "pool.jsonl"


@pytest.fixture(scope="module")
def real_label_sets(gold_train):
    return [r["labels"] for r in gold_train[:1500]]


def _planted(label_sets, rng, effects):
    X = label_matrix(label_sets)
    beta = np.array([effects.get(c, 0.0) for c in X.columns])
    noise = rng.normal(0, 1.0, len(label_sets)) * (1 + 0.5 * X.to_numpy().sum(axis=1))  # heteroskedastic
    return 3.0 + X.to_numpy() @ beta + noise


def test_intervals_cover_planted_effects(real_label_sets):
    rng = np.random.default_rng(1)
    labels = label_matrix(real_label_sets)
    frequent = [c for c in labels.columns if labels[c].sum() >= 30]
    coverage = []
    for _ in range(15):
        effects = {c: rng.normal(0, 0.5) for c in frequent}
        table = drivers(real_label_sets, _planted(real_label_sets, rng, effects))
        est = table[table["estimated"]]
        assert set(est["label"]) == set(frequent)
        coverage += [low <= effects[lab] <= high for lab, low, high in zip(est["label"], est["ci_low"], est["ci_high"])]
    assert np.mean(coverage) >= 0.90


def test_null_flags_at_most_five_percent(real_label_sets):
    rng = np.random.default_rng(2)
    flagged = []
    for _ in range(15):
        table = drivers(real_label_sets, rng.normal(3, 1, len(real_label_sets)))
        flagged += list(table.loc[table["estimated"], "q_value"] < 0.05)
    assert np.mean(flagged) <= 0.05


def test_correlated_labels_do_not_take_each_others_credit():
    rng = np.random.default_rng(3)
    n = 3000
    a = rng.random(n) < 0.3
    b = np.where(a, rng.random(n) < 0.8, rng.random(n) < 0.1)  # b mostly travels with a
    label_sets = [[lab for lab, on in (("pay:negative", x), ("growth:negative", y)) if on] for x, y in zip(a, b)]
    score = 4.0 - 1.0 * a + rng.normal(0, 0.5, n)  # only pay moves the score
    table = drivers(label_sets, score).set_index("label")
    assert table.loc["growth:negative", "mean_with"] < table.loc["growth:negative", "mean_without"] - 0.5
    assert table.loc["growth:negative", "ci_low"] < 0 < table.loc["growth:negative", "ci_high"]
    assert table.loc["pay:negative", "ci_low"] < -1.0 < table.loc["pay:negative", "ci_high"]


def test_bad_scores_and_flagged_rows_are_left_out_and_counted():
    label_sets = [["pay:negative"]] * 40 + [[]] * 40 + [None, ["pay:negative"]]
    scores = [2] * 40 + [4] * 40 + [5, "n/a"]
    table = drivers(label_sets, scores)
    assert table.attrs["n_scored"] == 80
    assert table.attrs["excluded_rows"] == [82]  # the non-numeric score; row 81 was not classified
    row = table.set_index("label").loc["pay:negative"]
    assert row["n"] == 40 and row["impact"] == pytest.approx(-2.0)


def test_labels_below_min_count_are_listed_not_estimated():
    label_sets = [["pay:negative"]] * 10 + [["growth:positive"]] * 50 + [[]] * 50
    table = drivers(label_sets, list(np.linspace(1, 5, 110)), min_count=30).set_index("label")
    assert not table.loc["pay:negative", "estimated"] and np.isnan(table.loc["pay:negative", "impact"])
    assert table.loc["growth:positive", "estimated"]


def test_score_parsing():
    values, bad = parse_scores([10, "9", 8, "7", 6, "0", "4,5", "", "x", 11], "nps")
    assert values[:7].tolist() == [100, 100, 0, 0, -100, -100, -100]
    assert bad == [8, 9, 10]  # blank, not a number, outside 0-10
    values, bad = parse_scores(["4,5", "1,000", " 3 ", True, float("inf")], "mean")
    assert values[0] == 4.5 and values[2] == 3.0 and bad == [2, 4, 5]


@pytest.fixture(scope="module")
def pool_classified(default_model):
    """1,000 real pros/cons comments with their review's sub-ratings, classified by the shipped model."""
    from themesift import predict

    if not POOL.is_file():
        pytest.skip(f"shared data not found at {POOL}")
    rows = [
        r
        for r in read_jsonl(POOL, limit=3000)
        if r.get("field") in ("pros", "cons") and len(r.get("subratings") or {}) >= 5
    ][:1000]
    results = predict([r["text"] for r in rows], model=default_model, audience="employee")
    return pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "comment": [r["text"] for r in rows],
            "themes": ["; ".join(x["labels"]) for x in results],
            "rating": [r["rating"] for r in rows],
            **{s: [r["subratings"].get(s) for r in rows] for s in SUBRATINGS},
            "error": [x["error"] or "" for x in results],
        }
    )


def test_each_theme_moves_its_own_subrating_most(pool_classified):
    """The validity check that needs no labels: on real reviews, a theme's impact is largest on
    the sub-rating that measures it, and its interval there mostly excludes zero (on 4,000
    comments every one does: benchmarks/drivers_validity.py)."""
    labels = [x.split("; ") if x else [] for x in pool_classified["themes"]]
    tables = {s: drivers(labels, pool_classified[s].tolist()).set_index("label") for s in SUBRATINGS}
    checked = significant = 0
    for label, own in OWN_SUBRATING.items():
        if label not in tables[own].index or not tables[own].loc[label, "estimated"]:
            continue
        sign = -1 if label.endswith(":negative") else 1
        impacts = {s: sign * tables[s].loc[label, "impact"] for s in SUBRATINGS}
        assert max(impacts, key=impacts.get) == own, (label, impacts)
        row = tables[own].loc[label]
        significant += bool((row["ci_high"] < 0) if sign < 0 else (row["ci_low"] > 0))
        checked += 1
    assert checked >= 6
    assert significant >= checked - 2  # on 1,000 comments a label on ~50 of them may not clear zero


def test_cli_drivers_on_a_classified_file(pool_classified, tmp_path, capsys):
    from themesift.cli import main

    frame = pool_classified.astype({"rating": object})
    frame.loc[5, "rating"] = "n/a"
    src = tmp_path / "classified.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "drivers.csv"
    assert main(["drivers", str(src), "--score", "rating", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "left out: 1 rows" in printed and "(rows 6)" in printed
    table = pd.read_csv(out)
    assert {"label", "theme", "polarity", "n", "impact", "ci_low", "ci_high", "p_value", "q_value"} <= set(table)
    est = table[table["estimated"]]
    assert (est["ci_low"] <= est["impact"]).all() and (est["impact"] <= est["ci_high"]).all()
    assert main(["drivers", str(src), "--score", "nps_score"]) == 2
    assert "--score: no column 'nps_score'" in capsys.readouterr().err


def test_cli_drivers_classifies_a_raw_export_on_the_fly(pool_classified, tmp_path, capsys):
    """No themes column: the file is classified first (here with the shipped model)."""
    from themesift.cli import main

    raw = pool_classified.loc[:199, ["id", "comment", "rating"]]
    src = tmp_path / "raw.csv"
    raw.to_csv(src, index=False)
    assert main(["drivers", str(src), "--score", "rating", "--min-count", "10", "-o", str(tmp_path / "d.csv")]) == 0
    assert "200 scored comments" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "d.csv")["estimated"].any()


def test_a_score_that_never_varies_is_refused():
    with pytest.raises(AnalysisError, match="0-10 likelihood to recommend"):
        drivers([["pay:negative"]] * 40 + [[]] * 40, [3] * 40 + [5] * 40, kind="nps")  # 1-5 ratings read as NPS
