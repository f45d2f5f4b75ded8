"""Likely label errors in a labeled file, ranked by row: the idea of cleanlab's multi-label issue finder.

Every row is scored by models that never saw it (k-fold, the same folds and training path as
``themesift cv``): the chosen family and, by default, a second opinion from logistic heads on
frozen MiniLM sentence embeddings (one encoding pass, heads refitted per fold; it errs on
other comments than TF-IDF does, so the average ranks planted errors higher than TF-IDF alone:
``benchmarks/audit_noise.py`` with and without ``--no-embed``). Each member's out-of-fold probabilities
get a temperature per theme fitted by log-loss against the labels as given, so that averaging
them and comparing themes is fair.

For each row and theme the label as written (a polarity, or absent) gets a quality: the
probability the models give it over the average they give rows that carry that same label
(confident learning's per-class threshold, as in cleanlab), so a rare label such as
``x:neutral``, which is never given a high probability, is not flagged everywhere. An issue's
``confidence`` is 1 - that quality; its kind follows the most likely alternative: a theme the
label lacks (``missing``), a labeled theme the models read as absent (``extra``), or another
``polarity``. A row is as suspect as its worst label (``row_confidence``); rows come most
suspect first, each row's issues together. Nothing in the data is changed: the output is a
review list with the suggested label set and why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from themesift.models.labels import UNKNOWN_POLARITY, LabelSpace, format_label
from themesift.models.params import PARAMS
from themesift.training.crossval import fold_models
from themesift.training.data import LabeledData
from themesift.training.labels_io import LabelDataError
from themesift.training.splits import kfold

AUDIT_COLUMNS = [
    "row",
    "text",
    "labels",
    "issue",
    "label",
    "suggested_labels",
    "confidence",
    "row_confidence",
    "why",
]


def out_of_fold_proba(
    data: LabeledData,
    space: LabelSpace,
    *,
    family: str = "tfidf",
    folds: int = 5,
    params: dict | None = None,
    seed: int = 0,
    progress: bool = True,
) -> np.ndarray:
    """Probabilities (n, themes, classes), each row's from the fold model that held it out."""
    params = {"seed": seed, **(params or {})}
    proba = np.zeros((len(data), space.n_themes, space.n_classes))
    for _, test_idx, model, _, _ in fold_models(
        data, space, family=family, folds=folds, params=params, seed=seed, progress=progress
    ):
        proba[test_idx] = model.predict_proba([data.texts[i] for i in test_idx], audience=None)
    return proba


def embedding_proba(
    data: LabeledData,
    space: LabelSpace,
    *,
    folds: int = 5,
    seed: int = 0,
    embeddings: np.ndarray | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Out-of-fold probabilities of softmax heads on frozen MiniLM embeddings, over the same
    folds as :func:`out_of_fold_proba`; texts are encoded once (or ``embeddings`` reused)."""
    if embeddings is None:
        from themesift.models.embed import EmbedClassifier

        embeddings = EmbedClassifier().embed(list(data.texts), progress=progress)
    X = np.asarray(embeddings, dtype=np.float32)
    if X.shape[0] != len(data):
        raise ValueError(f"embeddings: {X.shape[0]} rows for {len(data)} texts")
    y = space.encode(data.label_sets)
    proba = np.zeros((len(data), space.n_themes, space.n_classes))
    for train_idx, test_idx in kfold(data.texts, data.label_sets, folds=folds, seed=seed):
        weights, bias = _fit_softmax_heads(X[train_idx], y[train_idx], space.n_classes, C=PARAMS["embed"]["C"].default)
        proba[test_idx] = _softmax(X[test_idx] @ weights + bias, space.n_themes, space.n_classes)
    return proba


def _softmax(logits: np.ndarray, n_themes: int, n_classes: int) -> np.ndarray:
    z = logits.reshape(len(logits), n_themes, n_classes).astype(np.float64)
    z -= z.max(axis=2, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=2, keepdims=True)


def _fit_softmax_heads(
    X: np.ndarray, y: np.ndarray, n_classes: int, *, C: float, iters: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """All themes' multinomial logistic heads in one full-batch L-BFGS fit (sklearn's loss and
    L2 scale; several times faster than one sklearn fit per theme on dense features). A label
    with no polarity counts for presence only."""
    import torch

    n, n_themes = y.shape
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.long)
    unknown, target = yt == UNKNOWN_POLARITY, yt.clamp(min=0)
    has_unknown = bool(unknown.any())
    W = torch.zeros(X.shape[1], n_themes * n_classes, requires_grad=True)
    b = torch.zeros(n_themes * n_classes, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        logp = torch.log_softmax((Xt @ W + b).view(n, n_themes, n_classes), dim=2)
        ll = logp.gather(2, target[:, :, None])[:, :, 0]
        if has_unknown:  # log p(present): stable, and no NaN gradient from a branch not taken
            ll = torch.where(unknown, torch.logsumexp(logp[:, :, 1:], dim=2), ll)
        loss = -ll.sum() / n + (W * W).sum() / (2 * C * n)
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach().numpy(), b.detach().numpy()


def given_label_proba(proba: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """(n, themes): the probability of each label as written; presence for a label without polarity."""
    known = np.take_along_axis(proba, np.maximum(gold, 0)[:, :, None], axis=2)[:, :, 0]
    return np.where(gold == UNKNOWN_POLARITY, 1.0 - proba[:, :, 0], known)


def calibrate(proba: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """A temperature per theme, the one with the lowest log-loss against the labels as given:
    members and themes are then on one scale (a few noisy labels barely move it)."""
    from scipy.optimize import minimize_scalar

    logp = np.log(np.clip(proba, 1e-12, 1.0))
    out = np.empty_like(proba)
    for j in range(proba.shape[1]):

        def scaled(t: float, j: int = j) -> np.ndarray:
            z = logp[:, j] / t
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def loss(t: float, j: int = j) -> float:
            p = given_label_proba(scaled(t)[:, None], gold[:, j : j + 1])
            return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())

        out[:, j] = scaled(minimize_scalar(loss, bounds=(0.25, 8.0), method="bounded").x)
    return out


def label_quality(proba: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """(n, themes): p(label as written) / the mean p rows carrying that label get, capped at 1."""
    given = given_label_proba(proba, gold)
    cls = np.maximum(gold, 0)  # a label without polarity is normalised with the theme's present rows
    cls = np.where(gold == UNKNOWN_POLARITY, -1, cls)
    expected = np.ones_like(given)
    for j in range(gold.shape[1]):
        for c in np.unique(cls[:, j]):
            carried = cls[:, j] == c
            expected[carried, j] = max(float(given[carried, j].mean()), 1e-6)
    return np.minimum(given / expected, 1.0)


def find_label_issues(
    data: LabeledData,
    *,
    family: str = "tfidf",
    folds: int = 5,
    params: dict | None = None,
    seed: int = 0,
    min_confidence: float = 0.5,
    embed: bool = True,
    embeddings: np.ndarray | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per likely issue, most suspect rows first (see the module docstring).

    ``embed=False`` leaves out the MiniLM second opinion (the family alone, no encoding pass);
    ``embeddings`` are precomputed MiniLM embeddings of ``data.texts`` to reuse."""
    if folds < 2:
        raise LabelDataError(f"--folds: the audit needs at least 2 folds, got {folds}")
    space = LabelSpace.from_label_sets(data.label_sets, data.polarities)
    if not space.themes:
        raise LabelDataError(f"{data.source or 'data'}: no labels at all, nothing to audit")
    gold = space.encode(data.label_sets)
    members = [out_of_fold_proba(data, space, family=family, folds=folds, params=params, seed=seed, progress=progress)]
    if embed:
        members.append(embedding_proba(data, space, folds=folds, seed=seed, embeddings=embeddings, progress=progress))
    proba = np.mean([calibrate(p, gold) for p in members], axis=0)
    confidence = 1.0 - label_quality(proba, gold)
    rows = [
        _issue(data, space, proba, gold, i, j, float(confidence[i, j]))
        for i, j in zip(*np.nonzero(confidence >= min_confidence))
    ]
    out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    if len(out):
        out["row_confidence"] = out.groupby("row")["confidence"].transform("max")
    out = out.sort_values(
        ["row_confidence", "row", "confidence"], ascending=[False, True, False], kind="stable"
    ).reset_index(drop=True)
    out.attrs.update(rows=len(data), family=family, folds=folds, seed=seed, embed=embed)
    return out


def _issue(
    data: LabeledData, space: LabelSpace, proba: np.ndarray, gold: np.ndarray, i: int, j: int, confidence: float
) -> dict:
    theme, given = space.themes[j], int(gold[i, j])
    p = proba[i, j]
    polarity = space.polarities[int(p[1:].argmax())]
    if given == 0:
        issue, label = "missing", format_label(theme, polarity)
        why = f"the models give {label} {p[1:].max():.2f} (absent {p[0]:.2f})"
    else:
        label = next(lab for lab in data.label_sets[i] if lab.partition(":")[0] == theme)
        alternative = 0 if given == UNKNOWN_POLARITY else int(np.delete(p, given).argmax())  # no polarity: presence
        alternative += int(alternative and alternative >= given)
        issue = "extra" if alternative == 0 else "polarity"
        if issue == "extra":
            why = f"the models give {theme} presence {1.0 - p[0]:.2f} only"
        else:
            polarity = space.polarities[alternative - 1]
            why = f"the models read {theme} as {polarity} ({p[alternative]:.2f} against {p[given]:.2f})"
    return {
        "row": i + 1,
        "text": data.texts[i],
        "labels": "; ".join(data.label_sets[i]),
        "issue": issue,
        "label": label,
        "suggested_labels": "; ".join(_suggest(data.label_sets[i], theme, issue, polarity)),
        "confidence": round(confidence, 4),
        "row_confidence": 0.0,
        "why": why,
    }


def _suggest(labels: list[str], theme: str, issue: str, polarity: str) -> list[str]:
    kept = [lab for lab in labels if lab.partition(":")[0] != theme]
    if issue == "extra":
        return kept
    return sorted(kept + [format_label(theme, polarity)])
