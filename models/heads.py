"""Small numeric helpers shared by the families' per-theme softmax heads."""

from __future__ import annotations

import numpy as np

from themesift.models.labels import UNKNOWN_POLARITY


def softmax_per_theme(logits: np.ndarray, n_themes: int, n_classes: int) -> np.ndarray:
    """(n, T*C) logits → (n, T, C) probabilities, softmax over each theme's classes."""
    z = logits.reshape(len(logits), n_themes, n_classes).astype(np.float64)
    z -= z.max(axis=2, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=2, keepdims=True)


def expand_unknown_polarity(column: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, targets and weights for one theme, where a present-but-unknown polarity row
    counts once per polarity with weight 1/P: it teaches presence, not polarity."""
    known = np.flatnonzero(column != UNKNOWN_POLARITY)
    unknown = np.flatnonzero(column == UNKNOWN_POLARITY)
    n_pol = n_classes - 1
    rows = np.concatenate([known, np.repeat(unknown, n_pol)])
    target = np.concatenate([column[known], np.tile(np.arange(1, n_classes), len(unknown))])
    weight = np.concatenate([np.ones(len(known)), np.full(len(unknown) * n_pol, 1.0 / n_pol)])
    return rows, target, weight


MISSING_CLASS_BIAS = -1e4  # a class never seen in training gets ~0 probability


def fit_linear_heads(
    X, y: np.ndarray, n_classes: int, *, C: float, max_iter: int = 2000, class_weight: str | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One multinomial logistic regression per theme, stacked as (D, T*C) weights + bias."""
    from sklearn.linear_model import LogisticRegression

    n_themes = y.shape[1]
    coef = np.zeros((X.shape[1], n_themes * n_classes), dtype=np.float32)
    bias = np.full(n_themes * n_classes, MISSING_CLASS_BIAS, dtype=np.float32)
    for t in range(n_themes):
        rows, target, weight = expand_unknown_polarity(y[:, t], n_classes)
        classes = np.unique(target)
        cols = t * n_classes + classes
        if len(classes) == 1:  # theme never (or always) present: constant prediction
            bias[cols] = 0.0
            continue
        clf = LogisticRegression(C=C, max_iter=max_iter, class_weight=class_weight, random_state=seed)
        clf.fit(X[rows], target, sample_weight=weight)
        if len(classes) == 2:  # sklearn keeps one row for a binary problem
            coef[:, cols[1]] = clf.coef_[0]
            bias[cols[1]] = clf.intercept_[0]
            bias[cols[0]] = 0.0
        else:
            coef[:, cols] = clf.coef_.T
            bias[cols] = clf.intercept_
    return coef, bias
