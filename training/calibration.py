"""Are the model's scores probabilities? Expected calibration error and reliability tables.

Why: per-theme thresholds and any downstream "only show confident themes" rule assume a
score of 0.8 means right about 80% of the time. The reliability table shows where that
holds and where it does not, for theme presence and for the polarity chosen.
"""

from __future__ import annotations

import numpy as np


def expected_calibration_error(presence_scores: np.ndarray, gold_present: np.ndarray, n_bins: int = 10) -> dict:
    """ECE of confidences against 0/1 outcomes over equal-width bins, with the reliability table.

    ``presence_scores`` and ``gold_present`` may have any (matching) shape; every element
    is one (text, theme) pair. For theme presence the confidence is P(present) and the
    outcome "theme is in gold"; for polarity, the top polarity's probability and "that
    polarity is the gold one". ECE = sum over bins of (count / n) * |accuracy - confidence|.
    """
    conf = np.asarray(presence_scores, dtype=float).ravel()
    hit = np.asarray(gold_present).ravel().astype(bool)
    if conf.shape != hit.shape:
        raise ValueError(f"{conf.size} scores but {hit.size} outcomes")
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if conf.size and (conf.min() < -1e-9 or conf.max() > 1 + 1e-9):
        raise ValueError("scores must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin b holds [edge_b, edge_b+1); the last bin also holds 1.0
    which = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    bins, ece, mce = [], 0.0, 0.0
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        row = {
            "lower": round(float(edges[b]), 4),
            "upper": round(float(edges[b + 1]), 4),
            "count": count,
            "mean_confidence": None,
            "accuracy": None,
        }
        if count:
            mean_conf, acc = float(conf[mask].mean()), float(hit[mask].mean())
            gap = abs(acc - mean_conf)
            ece += count / conf.size * gap
            mce = max(mce, gap)
            row.update(mean_confidence=round(mean_conf, 4), accuracy=round(acc, 4))
        bins.append(row)
    brier = float(np.mean((conf - hit) ** 2)) if conf.size else None
    return {
        "n": int(conf.size),
        "n_bins": n_bins,
        "ece": round(ece, 4),
        "mce": round(mce, 4),
        "brier": None if brier is None else round(brier, 4),
        "bins": bins,
    }


def polarity_confidence(proba: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of the argmax polarity on every gold-present theme with a known polarity.

    The polarity columns of ``proba`` are joint P(present with polarity k); renormalised
    over polarities they give P(polarity k | present), which is what the polarity choice uses.
    """
    mask = y > 0
    pol = proba[:, :, 1:]
    cond = pol / np.clip(pol.sum(axis=2, keepdims=True), 1e-12, None)
    confidence = cond.max(axis=2)[mask]
    correct = (cond.argmax(axis=2) + 1)[mask] == y[mask]
    return confidence, correct


def calibration_report(proba: np.ndarray, y: np.ndarray, n_bins: int = 10) -> dict:
    """Calibration of theme presence (every text × theme pair) and of polarity (gold-present themes).

    ``proba`` is ``predict_proba`` output (n, themes, 1 + polarities); ``y`` the encoded gold
    (0 absent, k polarity k, -1 present with unknown polarity).
    """
    presence = 1.0 - proba[:, :, 0]
    confidence, correct = polarity_confidence(proba, y)
    return {
        "presence": expected_calibration_error(presence, y != 0, n_bins),
        "polarity": expected_calibration_error(confidence, correct, n_bins),
    }
