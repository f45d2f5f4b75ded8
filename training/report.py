"""``themesift evaluate --report``: the metrics plus one self-contained HTML page that shows
where a model is right, where it is wrong, and whether its scores can be trusted.

The returned dict keeps :func:`evaluate_label_sets`'s keys at the top level (so
``format_metrics`` and ``--json`` work unchanged) and adds ``presence`` (per-theme
threshold and average precision), ``confusion`` (gold × predicted polarity per theme),
``calibration``, with a second model ``compare`` and, with ``by``, per-segment scores
(``evaluate --by COLUMN``) under ``"by"``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import plotly.offline

from themesift.models.base import ThemeClassifier, presence_scores
from themesift.models.labels import UNKNOWN_POLARITY, LabelSpace, parse_label
from themesift.nlp.atomic import atomic_write_text
from themesift.training import report_charts as rc
from themesift.training.calibration import calibration_report
from themesift.training.data import LabeledData
from themesift.training.evaluate import BLANK_SEGMENT, add_unknown_themes, evaluate_label_sets, evaluate_segments

LEVELS = (("theme", "theme"), ("theme_polarity", "theme:polarity"))
N_ERRORS = 10  # per kind: false positives, missed themes, wrong polarity
MAX_SHOWN_CHARS = 600


def encode_known(space: LabelSpace, label_sets: Sequence[Sequence[str]]) -> np.ndarray:
    """Gold label sets → (n, themes) codes like ``LabelSpace.encode``, skipping themes the
    model does not know (they still count as misses in ``evaluate_label_sets``)."""
    keep = [[lab for lab in labels if parse_label(lab, space.polarities)[0] in space.themes] for labels in label_sets]
    return space.encode(keep)


def _confusion(space: LabelSpace, y: np.ndarray, pred: np.ndarray) -> dict:
    """Per theme: gold (absent, each polarity, unknown) × predicted (absent, each polarity) counts."""
    rows = ["absent", *space.polarities] + (["(polarity unknown)"] if (y == UNKNOWN_POLARITY).any() else [])
    gold_codes = list(range(len(space.polarities) + 1)) + ([UNKNOWN_POLARITY] if len(rows) > space.n_classes else [])
    out = {}
    for t, theme in enumerate(space.themes):
        counts = [[int(((y[:, t] == g) & (pred[:, t] == p)).sum()) for p in range(space.n_classes)] for g in gold_codes]
        out[theme] = {"gold": rows, "predicted": ["absent", *space.polarities], "counts": counts}
    return out


def _compare(metrics: dict, other_metrics: dict) -> dict:
    delta = {
        level: {
            avg: {
                k: round(metrics[level][avg][k] - other_metrics[level][avg][k], 4)
                for k in ("precision", "recall", "f1")
            }
            for avg in ("micro", "macro")
        }
        for level, _ in LEVELS
    }
    per_label = {}
    for level, _ in LEVELS:
        mine = {r["label"]: r for r in metrics[level]["per_label"]}
        theirs = {r["label"]: r for r in other_metrics[level]["per_label"]}
        per_label[level] = [
            {
                "label": lab,
                "support": (mine.get(lab) or theirs[lab])["support"],
                "f1": mine[lab]["f1"] if lab in mine else 0.0,
                "other_f1": theirs[lab]["f1"] if lab in theirs else 0.0,
                "delta": round(
                    (mine[lab]["f1"] if lab in mine else 0.0) - (theirs[lab]["f1"] if lab in theirs else 0.0), 4
                ),
            }
            for lab in sorted(set(mine) | set(theirs))
        ]
    return {"delta": delta, "per_label": per_label, "other": other_metrics}


def _errors(texts, gold_sets, pred_sets, space, proba, y, pred) -> dict[str, list[dict]]:
    """The most confident mistakes: false positives (highest score), missed themes (lowest
    score) and wrong polarities (highest polarity confidence)."""
    scores = presence_scores(proba)
    pol = proba[:, :, 1:]
    pol_conf = (pol / np.clip(pol.sum(axis=2, keepdims=True), 1e-12, None)).max(axis=2)
    kinds = {
        "false positive": ((pred > 0) & (y == 0), -scores),
        "missed theme": ((pred == 0) & (y != 0), scores),
        "wrong polarity": ((pred > 0) & (y > 0) & (pred != y), -pol_conf),
    }
    out = {}
    for kind, (mask, key) in kinds.items():
        rows, cols = np.nonzero(mask)
        order = np.argsort(key[rows, cols], kind="stable")[:N_ERRORS]
        out[kind] = [
            {
                "row": int(rows[j]) + 1,
                "theme": space.themes[cols[j]],
                "score": float(scores[rows[j], cols[j]]),
                "polarity_confidence": float(pol_conf[rows[j], cols[j]]),
                "text": texts[rows[j]],
                "gold": gold_sets[rows[j]],
                "predicted": pred_sets[rows[j]],
            }
            for j in order
        ]
    return out


def _headline_section(metrics: dict, name: str) -> str:
    rows = []
    for level, label in LEVELS:
        for avg in ("micro", "macro"):
            m = metrics[level][avg]
            rows.append(
                [rc.td(label), rc.td(avg)]
                + [rc.num(m[k], key=f"{level}.{avg}.{k}") for k in ("precision", "recall", "f1")]
            )
    return (
        f'<section id="headline"><h2>Headline scores — {rc.esc(name)}</h2>'
        f'<p class="note">{metrics["n"]} comments; exact match (every label right) '
        f"{metrics['exact_match']:.3f}. Macro averages weigh every label equally, so rare themes count.</p>"
        + rc.table(["level", "average", "precision", "recall", "F1"], rows, numeric_from=2, attrs='id="headline-table"')
        + "</section>"
    )


def _per_label_section(metrics: dict) -> str:
    presence = {p["theme"]: p for p in metrics["presence"]}
    theme_rows = [
        [rc.td(r["label"])]
        + [rc.num(r[k]) for k in ("precision", "recall", "f1")]
        + [
            rc.num(r["support"], 0),
            rc.num(r["predicted"], 0),
            rc.num(presence.get(r["label"], {}).get("threshold"), 2),
            rc.num(presence.get(r["label"], {}).get("average_precision")),
        ]
        for r in metrics["theme"]["per_label"]
    ]
    label_rows = [
        [rc.td(r["label"])]
        + [rc.num(r[k]) for k in ("precision", "recall", "f1")]
        + [rc.num(r["support"], 0), rc.num(r["predicted"], 0)]
        for r in metrics["theme_polarity"]["per_label"]
    ]
    return (
        '<section id="per-label"><h2>Per label</h2><p class="note">Themes (polarity ignored), with the '
        "threshold the model uses and the average precision of its presence score.</p>"
        + rc.table(
            ["theme", "precision", "recall", "F1", "support", "predicted", "threshold", "AP"],
            theme_rows,
            attrs='id="theme-table"',
        )
        + "<h2>Theme:polarity</h2>"
        + rc.table(["label", "precision", "recall", "F1", "support", "predicted"], label_rows, attrs='id="label-table"')
        + "</section>"
    )


SEGMENT_STATS = [
    (level, avg, k, f"{label} {name}")
    for level, label in (("theme", "theme"), ("theme_polarity", "theme:pol."))
    for avg, k, name in (
        ("micro", "precision", "micro P"),
        ("micro", "recall", "micro R"),
        ("micro", "f1", "micro F1"),
        ("macro", "f1", "macro F1"),
    )
]


def _segment_row(name: str, m: dict, key: str | None) -> list[str]:
    return [rc.td(name), rc.num(m["n"], 0)] + [
        rc.num(m[level][avg][k], key=f"{key}.{level}.{avg}.{k}" if key else None) for level, avg, k, _ in SEGMENT_STATS
    ]


def _segments_section(metrics: dict) -> str:
    """One table per ``--by`` column: n and the headline figures per segment, then overall."""
    headers = ["segment", "n"] + [header for *_, header in SEGMENT_STATS]
    parts = []
    for i, (column, by_segment) in enumerate(metrics["by"].items()):
        rows = [_segment_row(name, m, f"by.{column}.{name}") for name, m in by_segment.items()]
        rows.append(_segment_row("(overall)", metrics, None))
        count = f"{len(by_segment)} segment{'s' if len(by_segment) != 1 else ''}"
        parts.append(
            f"<h3>by {rc.esc(column)} ({count})</h3>"
            + rc.table(headers, rows, attrs=f'id="by-{i}" class="segments" data-column="{rc.esc(column)}"')
        )
    return (
        '<section id="by-segment"><h2>Scores per segment</h2><p class="note">The headline figures per value '
        f"of each --by column; rows without a value form the {rc.esc(BLANK_SEGMENT)} segment. Small segments "
        "give noisy scores: read n first.</p>" + "".join(parts) + "</section>"
    )


def _confusion_section(confusion: dict) -> str:
    cells = []
    for theme, c in confusion.items():
        rows = [[rc.td(g)] + [rc.num(v, 0) for v in counts] for g, counts in zip(c["gold"], c["counts"])]
        cells.append(
            f"<div><h3>{rc.esc(theme)}</h3>"
            + rc.table(["gold \\ pred.", *c["predicted"]], rows, attrs='class="confusion"')
            + "</div>"
        )
    return (
        '<section id="confusion"><h2>Polarity confusion per theme</h2><p class="note">Rows: gold; '
        "columns: predicted. Off-diagonal cells in the polarity block are right theme, wrong polarity.</p>"
        f'<div class="grid">{"".join(cells)}</div></section>'
    )


def _errors_section(errors: dict) -> str:
    parts = []
    for kind, rows in errors.items():
        body = [
            [
                rc.num(e["row"], 0),
                rc.td(e["theme"]),
                rc.num(e["score"]),
                rc.num(e["polarity_confidence"]),
                rc.td("; ".join(e["gold"]) or "—"),
                rc.td("; ".join(e["predicted"]) or "—"),
                rc.td(e["text"][:MAX_SHOWN_CHARS] + ("…" if len(e["text"]) > MAX_SHOWN_CHARS else ""), "text"),
            ]
            for e in rows
        ]
        parts.append(
            f"<h3>{rc.esc(kind)} ({len(rows)})</h3>"
            + (
                rc.table(
                    ["row", "theme", "presence", "polarity conf.", "gold", "predicted", "text"],
                    body,
                    numeric_from=0,
                    attrs=f'id="errors-{kind.replace(" ", "-")}"',
                )
                if rows
                else '<p class="note">none</p>'
            )
        )
    return (
        '<section id="errors"><h2>Most confident mistakes</h2><p class="note">Row numbers count data rows '
        "from 1. Read these before trusting the averages: they show label noise as well as model errors.</p>"
        + "".join(parts)
        + "</section>"
    )


def _compare_section(compare: dict, names: tuple[str, str]) -> str:
    a, b = (rc.esc(n) for n in names)
    head_rows = [
        [rc.td(label), rc.td(avg)]
        + [
            rc.num(compare["delta"][level][avg][k], signed=True, key=f"delta.{level}.{avg}.{k}")
            for k in ("precision", "recall", "f1")
        ]
        for level, label in LEVELS
        for avg in ("micro", "macro")
    ]
    html = f'<section id="compare"><h2>{a} vs {b}</h2><p class="note">Deltas are {a} minus {b}.</p>' + rc.table(
        ["level", "average", "Δ precision", "Δ recall", "Δ F1"], head_rows, numeric_from=2, attrs='id="delta-table"'
    )
    for level, label in LEVELS:
        rows = [
            [
                rc.td(r["label"]),
                rc.num(r["support"], 0),
                rc.num(r["f1"]),
                rc.num(r["other_f1"]),
                rc.num(r["delta"], signed=True),
            ]
            for r in compare["per_label"][level]
        ]
        html += f"<h3>Per-{label} F1</h3>" + rc.table([label, "support", f"F1 {names[0]}", f"F1 {names[1]}", "Δ"], rows)
    return html + "</section>"


def evaluation_details(
    model: ThemeClassifier, data: LabeledData, by: Mapping[str, Sequence[object]] | None = None
) -> tuple[dict, dict]:
    """(metrics, arrays the page needs) for ``model`` on ``data``; ``by`` ({column: value per
    row}) adds per-segment scores from the same predictions."""
    space = model.label_space_
    proba = model.predict_proba(data.texts)
    pred_sets = model.decode(proba)
    metrics = add_unknown_themes(
        evaluate_label_sets(data.label_sets, pred_sets, themes=model.themes), data.label_sets, pred_sets, model.themes
    )
    if by:
        metrics["by"] = evaluate_segments(data.label_sets, pred_sets, by, themes=model.themes)
    y = encode_known(space, data.label_sets)
    pred = space.encode(pred_sets)
    curves = rc.presence_curves(presence_scores(proba), y != 0, space.themes, model.thresholds_)
    metrics["presence"] = [{k: v for k, v in c.items() if k != "curve"} for c in curves]
    metrics["confusion"] = _confusion(space, y, pred)
    metrics["calibration"] = calibration_report(proba, y)
    errors = _errors(data.texts, data.label_sets, pred_sets, space, proba, y, pred)
    return metrics, {"curves": curves, "errors": errors}


def write_evaluation_report(
    model: ThemeClassifier,
    data: LabeledData,
    path: str | Path | None,
    *,
    other: ThemeClassifier | None = None,
    names: tuple[str | None, str | None] = ("model", "other"),
    by: Mapping[str, Sequence[object]] | None = None,
) -> dict:
    """Score ``model`` (and ``other``) on ``data``, per segment of each ``by`` column too; with
    ``path``, write the HTML report there atomically."""
    metrics, extra = evaluation_details(model, data, by)
    names = (str(names[0] or "model"), str(names[1] or "other"))
    if other is not None:
        other_metrics = evaluate_label_sets(data.label_sets, other.predict(data.texts), themes=other.themes)
        metrics["compare"] = {"names": list(names), **_compare(metrics, other_metrics)}
    if path is None:
        return metrics
    cal = metrics["calibration"]
    sections = [_headline_section(metrics, names[0])]
    if other is not None:
        sections.append(_compare_section(metrics["compare"], names))
    if metrics.get("by"):
        sections.append(_segments_section(metrics))
    sections += [
        _per_label_section(metrics),
        '<section id="pr-curves"><h2>Precision-recall per theme</h2><p class="note">Presence score '
        "= 1 − P(absent); the red dot is the threshold in use.</p>"
        + rc.figure_html(rc.pr_figure(extra["curves"]), "pr-figure")
        + "</section>",
        '<section id="calibration"><h2>Calibration</h2><p class="note">'
        f"Presence ECE {cal['presence']['ece']:.3f} over {cal['presence']['n']} text × theme pairs (Brier "
        f"{cal['presence']['brier']}); polarity ECE {cal['polarity']['ece']:.3f} over {cal['polarity']['n']} "
        "gold mentions. Bars below the diagonal mean over-confident scores.</p>"
        + rc.figure_html(rc.reliability_figure(cal), "reliability-figure")
        + "</section>",
        _confusion_section(metrics["confusion"]),
        _errors_section(extra["errors"]),
    ]
    meta = (
        f"model <b>{rc.esc(names[0])}</b> ({rc.esc(model.family)}, {len(model.themes)} themes) · data "
        f"{rc.esc(data.source or 'in memory')} ({len(data)} rows, {rc.esc(data.data_hash()[:23])}…) · "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    document = rc.page("Model evaluation", meta, sections, plotly.offline.get_plotlyjs())
    atomic_write_text(path, document, make_parents=True)
    return metrics
