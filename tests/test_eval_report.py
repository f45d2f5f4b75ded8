"""``themesift evaluate --report --compare --json``: real models, real files, the page opened
in headless Chromium with no network; every number shown is the number computed."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.offline
import pytest
from browser import render_page
from html_tables import HtmlTables

from conftest import GOLD, read_jsonl
from themesift.cli import main
from themesift.models.registry import load_artifact, make_model
from themesift.training.calibration import calibration_report, expected_calibration_error
from themesift.training.data import load_labeled
from themesift.training.evaluate import evaluate_label_sets, format_metrics
from themesift.training.report import write_evaluation_report
from themesift.training.train import TrainConfig, train

RESTAURANT = Path(__file__).parent / "fixtures" / "train_restaurant.csv"
HOSTILE = "<img src=x onerror=alert(1)> Delicious food, loved the pasta, tasty curry, great flavours in every dish"


def _restaurant(tmp: Path) -> tuple[Path, Path, list[str]]:
    """Train on the first 170 rows; evaluate on the rest plus a hostile, unlabeled food comment."""
    frame = pd.read_csv(RESTAURANT, keep_default_na=False)
    frame.iloc[:170].to_csv(tmp / "train.csv", index=False)
    held = pd.concat([frame.iloc[170:], pd.DataFrame([{"id": "x1", "comment": HOSTILE}])]).fillna("")
    held.to_csv(tmp / "eval.csv", index=False)
    return tmp / "train.csv", tmp / "eval.csv", ["--text-column", "comment"]


def _gold(tmp: Path) -> tuple[Path, Path, list[str]]:
    if not (GOLD / "train.jsonl").is_file():
        pytest.skip(f"shared data not found at {GOLD}")
    (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in read_jsonl(GOLD / "train.jsonl", 300)))
    (tmp / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in read_jsonl(GOLD / "dev.jsonl", 200)))
    return tmp / "train.jsonl", tmp / "eval.jsonl", []


@pytest.fixture(scope="module", params=["restaurant", pytest.param("gold", marks=pytest.mark.slow)])
def evaluated(request, tmp_path_factory):
    """Two real tfidf models (one via ``train``, tuned thresholds; one plain), then the CLI."""
    tmp = tmp_path_factory.mktemp(f"eval-{request.param}")
    train_path, eval_path, flags = {"restaurant": _restaurant, "gold": _gold}[request.param](tmp)
    text_column = flags[1] if flags else "text"
    model_dir = train(TrainConfig(data=str(train_path), output=str(tmp / "tuned"), text_column=text_column)).path
    fit = load_labeled(train_path, text_column=text_column)
    other_dir = make_model("tfidf", C=0.5, ngram_max=1).fit(fit.texts, fit.label_sets).save(tmp / "plain")
    report, metrics_json, stdout = tmp / "out" / "r.html", tmp / "m.json", io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(
            [
                "evaluate",
                "--model",
                str(model_dir),
                "--data",
                str(eval_path),
                "--report",
                str(report),
                "--compare",
                str(other_dir),
                "--json",
                str(metrics_json),
                *flags,
            ]
        )
    assert rc == 0
    data = load_labeled(eval_path, text_column=text_column)
    return {
        "name": request.param,
        "data": data,
        "model": load_artifact(model_dir),
        "other": load_artifact(other_dir),
        "report": report,
        "metrics": json.loads(metrics_json.read_text("utf-8")),
        "stdout": stdout.getvalue(),
        "page": render_page(report),
    }


def test_report_renders_offline_with_charts(evaluated):
    page, html = evaluated["page"], evaluated["report"].read_text("utf-8")
    assert page.requests == []
    assert not [c for c in page.console if "Uncaught" in c or "Refused" in c], page.console
    drawn = {}
    for div_id in ("pr-figure", "reliability-figure"):  # plotly drew into both chart divs
        start = page.dom.index(f'id="{div_id}"')
        chart = page.dom[start : page.dom.index("</section>", start)]
        assert 'class="main-svg"' in chart
        drawn[div_id] = set(re.findall(r'<g class="subplot (x\d*y\d*)"', chart))
    assert len(drawn["pr-figure"]) >= len(evaluated["model"].themes)  # one panel per theme
    assert len(drawn["reliability-figure"]) == 2  # presence and polarity
    # one file: plotly.js inlined exactly once, nothing referenced, a CSP that forbids fetching
    assert html.count(plotly.offline.get_plotlyjs()[:300]) == 1
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert [p.name for p in evaluated["report"].parent.iterdir()] == ["r.html"]  # no temp file left behind


def test_json_and_terminal_hold_the_same_metrics(evaluated):
    data, model, other, metrics = evaluated["data"], evaluated["model"], evaluated["other"], evaluated["metrics"]
    expected = evaluate_label_sets(data.label_sets, model.predict(data.texts), themes=model.themes)
    assert {k: metrics[k] for k in expected} == expected
    table, _, deltas = evaluated["stdout"].strip().partition("\n\nF1 of ")
    assert table == format_metrics(metrics)
    for level in ("theme", "theme_polarity"):  # the terminal also shows the comparison's F1 deltas
        for avg in ("micro", "macro"):
            assert f"{level:<16}{avg:<7}{metrics['compare']['delta'][level][avg]['f1']:+.3f}" in deltas
    theirs = evaluate_label_sets(data.label_sets, other.predict(data.texts), themes=other.themes)
    assert metrics["compare"]["other"] == theirs
    for level in ("theme", "theme_polarity"):
        for avg in ("micro", "macro"):
            assert metrics["compare"]["delta"][level][avg]["f1"] == pytest.approx(
                expected[level][avg]["f1"] - theirs[level][avg]["f1"], abs=1e-4
            )
    assert set(metrics["calibration"]) == {"presence", "polarity"}
    assert metrics["calibration"]["presence"]["n"] == len(data) * len(model.themes)


def test_numbers_in_the_page_are_the_computed_ones(evaluated):
    metrics, dom = evaluated["metrics"], evaluated["page"].dom
    shown = {
        m: (float(v), text) for m, v, text in re.findall(r'data-metric="([^"]+)" data-value="([^"]+)">([^<]+)<', dom)
    }
    for level in ("theme", "theme_polarity"):
        for avg in ("micro", "macro"):
            for stat in ("precision", "recall", "f1"):
                value, text = shown[f"{level}.{avg}.{stat}"]
                assert value == metrics[level][avg][stat] and text == f"{metrics[level][avg][stat]:.3f}"
                delta, _ = shown[f"delta.{level}.{avg}.{stat}"]
                assert delta == metrics["compare"]["delta"][level][avg][stat]
    parser = HtmlTables()
    parser.feed(dom)
    themes = {row[0]: row for row in parser.tables["theme-table"][1:]}
    labels = {row[0]: row for row in parser.tables["label-table"][1:]}
    for table, level in ((themes, "theme"), (labels, "theme_polarity")):
        assert set(table) == {r["label"] for r in metrics[level]["per_label"]}
        for r in metrics[level]["per_label"]:
            assert table[r["label"]][1:6] == [
                f"{r['precision']:.3f}",
                f"{r['recall']:.3f}",
                f"{r['f1']:.3f}",
                str(r["support"]),
                str(r["predicted"]),
            ]


def test_operating_points_and_confusion_agree_with_the_metrics(evaluated):
    metrics, model = evaluated["metrics"], evaluated["model"]
    per_theme = {r["label"]: r for r in metrics["theme"]["per_label"]}
    for p in metrics["presence"]:  # the red dot on each PR curve is the model's real P/R
        assert p["threshold"] == pytest.approx(float(model.thresholds_[model.themes.index(p["theme"])]))
        assert p["precision_at_threshold"] == pytest.approx(per_theme[p["theme"]]["precision"], abs=1e-4)
        if p["support"]:
            assert p["recall_at_threshold"] == pytest.approx(per_theme[p["theme"]]["recall"], abs=1e-4)
    for theme, c in metrics["confusion"].items():
        counts = np.array(c["counts"])
        assert counts.sum() == metrics["n"]
        assert counts[:, 1:].sum() == per_theme[theme]["predicted"]
        assert counts[1:, :].sum() == per_theme[theme]["support"]


def test_worst_errors_are_real_ranked_and_escaped(evaluated):
    html, dom, metrics = evaluated["report"].read_text("utf-8"), evaluated["page"].dom, evaluated["metrics"]
    parser = HtmlTables()
    parser.feed(dom)
    confusion = {t: np.array(c["counts"]) for t, c in metrics["confusion"].items()}
    n_false_pos = sum(int(c[0, 1:].sum()) for c in confusion.values())
    n_missed = sum(int(c[1:, 0].sum()) for c in confusion.values())
    for kind, total, order in (("false-positive", n_false_pos, -1), ("missed-theme", n_missed, 1)):
        rows = parser.tables.get(f"errors-{kind}", [["header"]])[1:]
        assert len(rows) == min(10, total)
        scores = [float(r[2]) for r in rows]
        assert scores == sorted(scores, key=lambda s: order * s)  # most confident mistakes first
        for _, theme, _, _, gold, predicted, text in rows:
            gold_themes = {lab.split(":")[0] for lab in gold.split("; ")}
            pred_themes = {lab.split(":")[0] for lab in predicted.split("; ")}
            assert (
                (theme in pred_themes and theme not in gold_themes)
                if kind == "false-positive"
                else (theme in gold_themes and theme not in pred_themes)
            )
            assert text
    if evaluated["name"] == "restaurant":  # an unlabeled comment full of food words: a confident false positive
        assert "&lt;img src=x onerror=alert(1)&gt; Delicious food" in html
        errors = dom[dom.index('id="errors"') :]
        assert "<img" not in errors and "&lt;img src=x" in errors


def test_report_without_compare_and_in_memory(tmp_path, evaluated):
    metrics = write_evaluation_report(evaluated["model"], evaluated["data"], None)
    assert "compare" not in metrics and not list(tmp_path.iterdir())
    assert metrics["theme"] == evaluated["metrics"]["theme"]


# --- calibration: hand-computed and statistical checks ------------------------------------


def test_ece_by_hand():
    out = expected_calibration_error(np.array([0.05, 0.15, 0.95, 0.95]), np.array([0, 1, 1, 0]), n_bins=10)
    # bins: 0.05 vs 0 (w .25), 0.15 vs 1 (w .25), 0.95 vs 0.5 (w .5)
    assert out["ece"] == pytest.approx(0.25 * 0.05 + 0.25 * 0.85 + 0.5 * 0.45)
    assert [b["count"] for b in out["bins"]] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert out["bins"][9] == {"lower": 0.9, "upper": 1.0, "count": 2, "mean_confidence": 0.95, "accuracy": 0.5}
    assert expected_calibration_error(np.array([1.0, 0.0]), np.array([1, 0]))["ece"] == 0.0


def test_ece_separates_calibrated_from_overconfident():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    assert expected_calibration_error(p, rng.uniform(size=p.size) < p)["ece"] < 0.02
    assert expected_calibration_error(p, rng.uniform(size=p.size) < p / 2)["ece"] > 0.2


def test_polarity_calibration_counts_only_gold_present_themes():
    proba = np.array([[[0.1, 0.6, 0.2, 0.1], [0.9, 0.05, 0.03, 0.02]], [[0.2, 0.1, 0.6, 0.1], [0.3, 0.1, 0.1, 0.5]]])
    y = np.array([[1, 0], [1, -1]])  # row 2 theme 2: present, polarity unknown -> not scored for polarity
    out = calibration_report(proba, y)
    assert out["presence"]["n"] == 4 and out["polarity"]["n"] == 2
    # row 1: top polarity positive (0.6/0.9) right; row 2: negative (0.6/0.8) wrong
    assert out["polarity"]["ece"] == pytest.approx(0.5 * (1 - 0.6 / 0.9) + 0.5 * 0.75, abs=1e-4)


def test_a_single_label_is_scored_as_that_label():
    """One theme means a one-column indicator matrix, which sklearn would read as a binary
    target and score the 'absent' class; the counts must be the theme's own."""
    m = evaluate_label_sets([["a:positive"], [], []], [["a:positive"], [], ["a:negative"]])
    assert m["theme"]["per_label"] == [
        {"label": "a", "precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1, "predicted": 2}
    ]
    assert m["theme"]["micro"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}
    assert m["theme_polarity"]["macro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    empty = evaluate_label_sets([[], []], [[], []], themes=["a"])
    assert empty["theme"]["per_label"][0]["support"] == 0 and empty["theme_polarity"]["per_label"] == []
