"""Precision, recall and F1 for theme detection and for theme:polarity, as data."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _themes_only(label_sets: Sequence[Sequence[str]]) -> list[set[str]]:
    return [{lab.split(":")[0] for lab in labels} for labels in label_sets]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(np.shape(num), dtype=float), where=np.asarray(den) > 0)


def _scores(gold: list[set[str]], pred: list[set[str]], labels: list[str]) -> dict:
    # counted directly rather than with sklearn, which reads a one-label indicator matrix
    # as a binary target and scores the "absent" class instead
    index = {lab: j for j, lab in enumerate(labels)}
    G = np.zeros((len(gold), len(labels)), dtype=bool)
    P = np.zeros_like(G)
    for i, (g, p) in enumerate(zip(gold, pred)):
        G[i, [index[x] for x in g]] = True
        P[i, [index[x] for x in p]] = True
    tp, predicted, support = (G & P).sum(axis=0), P.sum(axis=0), G.sum(axis=0)
    precision, recall, f1 = _ratio(tp, predicted), _ratio(tp, support), _ratio(2 * tp, predicted + support)
    micro_p, micro_r = _ratio(tp.sum(), predicted.sum()), _ratio(tp.sum(), support.sum())
    micro_f = _ratio(2 * tp.sum(), predicted.sum() + support.sum())
    out = {"micro": {"precision": round(float(micro_p), 4), "recall": round(float(micro_r), 4),
                     "f1": round(float(micro_f), 4)},
           "macro": {"precision": round(float(precision.mean()) if labels else 0.0, 4),
                     "recall": round(float(recall.mean()) if labels else 0.0, 4),
                     "f1": round(float(f1.mean()) if labels else 0.0, 4)}}
    out["per_label"] = [
        {"label": lab, "precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
         "f1": round(float(f1[i]), 4), "support": int(support[i]), "predicted": int(predicted[i])}
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
