"""Precision, recall and F1 for theme detection and for theme:polarity, as data."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer


def _themes_only(label_sets: Sequence[Sequence[str]]) -> list[set[str]]:
    return [{lab.split(":")[0] for lab in labels} for labels in label_sets]


def _scores(gold: list[set[str]], pred: list[set[str]], labels: list[str]) -> dict:
    mlb = MultiLabelBinarizer(classes=labels)
    G, P = mlb.fit_transform(gold), mlb.transform(pred)
    out = {}
    for avg in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(G, P, average=avg, zero_division=0)
        out[avg] = {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4)}
    p, r, f, s = precision_recall_fscore_support(G, P, average=None, zero_division=0)
    out["per_label"] = [
        {"label": lab, "precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
         "support": int(s[i]), "predicted": int(P[:, i].sum())}
        for i, lab in enumerate(labels)
    ]
    return out


def evaluate_label_sets(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                        themes: Sequence[str] | None = None) -> dict:
    """Micro/macro P/R/F1 for themes (polarity ignored) and for theme:polarity, per-label tables.

    Macro averages run over every label that occurs in gold or predictions (plus
    ``themes``, if given, for the theme level), so a theme the model never predicts counts.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    gold_t, pred_t = _themes_only(gold), _themes_only(pred)
    theme_labels = sorted(set(themes or ()) | set().union(*gold_t, *pred_t))
    gold_l, pred_l = [set(x) for x in gold], [set(x) for x in pred]
    label_labels = sorted(set().union(*gold_l, *pred_l))
    exact = float(np.mean([g == p for g, p in zip(gold_l, pred_l)])) if gold else 0.0
    return {
        "n": len(gold),
        "theme": _scores(gold_t, pred_t, theme_labels),
        "theme_polarity": _scores(gold_l, pred_l, label_labels),
        "exact_match": round(exact, 4),
    }


def evaluate_model(model, texts: Sequence[str], gold: Sequence[Sequence[str]]) -> dict:
    return evaluate_label_sets(gold, model.predict(texts), themes=model.themes)


def format_metrics(metrics: dict, *, per_label: bool = True) -> str:
    """A plain-text summary table, for the terminal."""
    lines = [f"comments: {metrics['n']}   exact match: {metrics['exact_match']:.3f}", "",
             f"{'level':<16}{'avg':<7}{'P':>7}{'R':>7}{'F1':>7}"]
    for level in ("theme", "theme_polarity"):
        for avg in ("micro", "macro"):
            m = metrics[level][avg]
            lines.append(f"{level:<16}{avg:<7}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}")
    if per_label:
        lines += ["", f"{'label':<38}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}"]
        for row in metrics["theme_polarity"]["per_label"]:
            lines.append(f"{row['label']:<38}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}{row['support']:>9}")
    return "\n".join(lines)
