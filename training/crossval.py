"""k-fold cross-validation: how much a score moves with the split, not just one number.

Each fold runs the same path as ``themesift train``: a seeded, stratified dev slice is
carved out of the fold's training part (never out of the held-out fold) for early
stopping and per-theme thresholds, so the held-out fold stays unseen by every choice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from themesift.models.base import ThemeClassifier
from themesift.models.labels import LabelSpace
from themesift.models.registry import make_model
from themesift.training.data import LabeledData, load_labeled
from themesift.training.evaluate import evaluate_label_sets
from themesift.training.labels_io import LabelDataError
from themesift.training.splits import kfold, train_test_split
from themesift.training.thresholds import tune_thresholds

LEVELS = ("theme", "theme_polarity")
AVERAGES = ("micro", "macro")
STATS = ("precision", "recall", "f1")


def _headline(metrics: dict) -> dict:
    return {level: {avg: dict(metrics[level][avg]) for avg in AVERAGES} for level in LEVELS}


def _summary(fold_metrics: list[dict]) -> dict:
    """Mean and sample standard deviation (ddof=1) over folds of every headline number."""
    out: dict = {}
    for level in LEVELS:
        for avg in AVERAGES:
            for stat in STATS:
                values = np.array([m[level][avg][stat] for m in fold_metrics], dtype=float)
                std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
                out.setdefault(level, {}).setdefault(avg, {})[stat] = {
                    "mean": round(float(values.mean()), 4),
                    "std": round(std, 4),
                    "min": round(float(values.min()), 4),
                    "max": round(float(values.max()), 4),
                }
    return out


def fold_models(
    data: LabeledData,
    space: LabelSpace,
    *,
    family: str,
    folds: int,
    params: dict,
    seed: int,
    dev_size: float = 0.1,
    progress: bool = True,
) -> Iterator[tuple[int, np.ndarray, ThemeClassifier, LabeledData, LabeledData]]:
    """For each stratified fold: its index, the held-out rows, and a model trained (with its
    thresholds tuned on a dev slice of the rest) without them; cross-validation and the label
    audit share this, so an out-of-fold figure always means the same thing."""
    splits = kfold(data.texts, data.label_sets, folds=folds, seed=seed)
    for k, (train_idx, test_idx) in enumerate(
        tqdm(splits, total=folds, desc="folds", unit="fold", disable=not progress)
    ):
        train_part = data.subset(train_idx)
        fit_i, dev_i = train_test_split(train_part.texts, train_part.label_sets, test_size=dev_size, seed=seed + k)
        fit, dev = train_part.subset(fit_i), train_part.subset(dev_i)
        model = make_model(family, **params)
        model.fit(fit.texts, fit.label_sets, label_space=space, dev=(dev.texts, dev.label_sets))
        model.set_thresholds(tune_thresholds(model.predict_proba(dev.texts), space.encode(dev.label_sets)))
        yield k, test_idx, model, fit, dev


def cross_validate(
    data: str | Path | LabeledData,
    *,
    family: str = "tfidf",
    folds: int = 5,
    params: dict | None = None,
    seed: int = 0,
    text_column: str | None = None,
    labels_column: str | None = "labels",
    label_columns: Sequence[str] | None = None,
    polarities: Sequence[str] | None = None,
    dev_size: float = 0.1,
    progress: bool = True,
) -> dict:
    """Train ``family`` on each of ``folds`` stratified folds; per-fold and mean ± std scores.

    Folds come from :func:`themesift.training.splits.kfold` (multi-label iterative
    stratification over groups of identical texts, so a duplicate never straddles folds).
    Returns per-fold metrics, mean/std/min/max of micro and macro P/R/F1 at theme and
    theme:polarity level, pooled out-of-fold metrics, the seed and the data hash.
    ``polarities`` widens the allowed polarity values (e.g. SemEval's ``conflict``).
    """
    if folds < 2:
        raise LabelDataError(f"--folds: cross-validation needs at least 2 folds, got {folds}")
    if not isinstance(data, LabeledData):
        data = load_labeled(
            data,
            text_column=text_column,
            labels_column=labels_column,
            label_columns=label_columns,
            polarities=polarities,
        )
    space = LabelSpace.from_label_sets(data.label_sets, data.polarities)
    if not space.themes:
        raise LabelDataError(f"{data.source or 'data'}: no labels at all, nothing to cross-validate")
    distinct = len(set(data.texts))
    if distinct < folds:
        raise LabelDataError(f"--folds {folds}: {data.source or 'data'} has only {distinct} distinct texts")
    params = dict(params or {})
    params.setdefault("seed", seed)
    oof: list[list[str] | None] = [None] * len(data)
    per_fold, fold_metrics = [], []
    started = time.time()
    fold_start = time.time()
    for k, test_idx, model, fit, dev in fold_models(
        data, space, family=family, folds=folds, params=params, seed=seed, dev_size=dev_size, progress=progress
    ):
        held = data.subset(test_idx)
        pred = model.predict(held.texts)
        for i, labels in zip(test_idx, pred):
            oof[int(i)] = labels
        metrics = evaluate_label_sets(held.label_sets, pred, themes=space.themes)
        fold_metrics.append(metrics)
        per_fold.append(
            {
                "fold": k + 1,
                "train_rows": len(fit),
                "dev_rows": len(dev),
                "test_rows": len(held),
                "test_hash": held.data_hash(),
                "exact_match": metrics["exact_match"],
                **_headline(metrics),
                "thresholds": dict(zip(space.themes, map(float, model.thresholds_))),
                "seconds": round(time.time() - fold_start, 2),
            }
        )
        fold_start = time.time()
    done = [i for i, p in enumerate(oof) if p is not None]
    pooled = evaluate_label_sets([data.label_sets[i] for i in done], [oof[i] for i in done], themes=space.themes)
    return {
        "family": family,
        "params": params,
        "folds": folds,
        "seed": seed,
        "dev_size": dev_size,
        "data": {"source": data.source, "rows": len(data), "hash": data.data_hash()},
        "themes": list(space.themes),
        "fold_results": per_fold,
        "summary": _summary(fold_metrics),
        "out_of_fold": {"predictions": len(done), "metrics": pooled},
        "seconds": round(time.time() - started, 1),
    }


def format_cv(result: dict) -> str:
    """A terminal table: one row per fold, then mean ± std, for micro/macro F1 at both levels."""
    cols = [(level, avg) for level in LEVELS for avg in AVERAGES]
    head = "".join(f"{('th:pol' if lv == 'theme_polarity' else 'theme') + ' ' + avg + ' F1':>18}" for lv, avg in cols)
    lines = [
        f"{result['family']} · {result['folds']} folds · seed {result['seed']} · {result['data']['rows']} rows "
        f"· {result['data']['hash'][:19]}",
        "",
        f"{'fold':<8}{'train':>7}{'dev':>6}{'test':>6}{head}",
    ]
    for fold in result["fold_results"]:
        cells = "".join(f"{fold[lv][avg]['f1']:>18.3f}" for lv, avg in cols)
        lines.append(f"{fold['fold']:<8}{fold['train_rows']:>7}{fold['dev_rows']:>6}{fold['test_rows']:>6}{cells}")
    summary = result["summary"]
    cells = "".join(
        f"{summary[lv][avg]['f1']['mean']:>10.3f} ± {summary[lv][avg]['f1']['std']:<5.3f}" for lv, avg in cols
    )
    lines.append(f"{'mean±std':<27}{cells}")
    oof = result["out_of_fold"]
    m = oof["metrics"]
    lines += [
        "",
        f"out-of-fold ({oof['predictions']} predictions, pooled): "
        f"theme micro F1 {m['theme']['micro']['f1']:.3f}, theme:polarity micro F1 "
        f"{m['theme_polarity']['micro']['f1']:.3f}; std is over folds (ddof=1)",
    ]
    return "\n".join(lines)
