"""Per-theme decision thresholds, tuned on held-out data for theme:polarity F1."""

from __future__ import annotations

import numpy as np

GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def tune_thresholds(proba: np.ndarray, y: np.ndarray, *, min_support: int = 5, default: float = 0.5) -> np.ndarray:
    """For each theme, the grid threshold with the best theme:polarity F1 on (proba, y).

    A theme with fewer than ``min_support`` gold mentions keeps ``default``: a threshold
    fitted to three examples is noise. Ties go to the threshold closest to ``default``.
    """
    presence = 1.0 - proba[:, :, 0]
    polarity = proba[:, :, 1:].argmax(axis=2) + 1
    out = np.full(y.shape[1], default)
    for t in range(y.shape[1]):
        gold = y[:, t] != 0
        if gold.sum() < min_support:
            continue
        best_key = None
        for thr in GRID:
            pred = presence[:, t] >= thr
            # an unknown gold polarity (-1) counts as right whatever polarity is predicted
            correct = pred & gold & ((polarity[:, t] == y[:, t]) | (y[:, t] < 0))
            tp = correct.sum()
            f1 = 2 * tp / max(pred.sum() + gold.sum(), 1)
            key = (round(float(f1), 6), -abs(thr - default))
            if best_key is None or key > best_key:
                best_key, out[t] = key, thr
    return out
