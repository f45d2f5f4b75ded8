"""Likely label errors in a labeled file, ranked: the idea of cleanlab's multi-label issue finder.

Every row is scored by a model that never saw it (k-fold, the same folds and dev-tuned
thresholds as ``themesift cv``). For each row and theme, the given label is compared with the
out-of-fold probabilities: a theme the model is sure of but the label lacks (``missing``), a
labeled theme the model does not see (``extra``), or a theme both see with another polarity
(``polarity``). An issue's ``confidence`` compares the probability the model gives to the label
as written with what it gives, on average, to the rows that carry that same label (confident
learning's per-class threshold, as in cleanlab): 1 - p / average, so a rare label such as
``x:neutral``, which is never given a high probability, is not flagged everywhere. The top of
the list is where a second look pays most.
Nothing is changed in the data: the output is a review list with the suggested label and why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from themesift.models.labels import LabelSpace, format_label
from themesift.training.crossval import fold_models
from themesift.training.data import LabeledData
from themesift.training.labels_io import LabelDataError

AUDIT_COLUMNS = ["row", "text", "labels", "issue", "label", "suggested_labels", "confidence", "why"]


def out_of_fold_proba(
    data: LabeledData,
    space: LabelSpace,
    *,
    family: str = "tfidf",
    folds: int = 5,
    params: dict | None = None,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (n, themes, classes) and thresholds (n, themes), each row's from the fold that held it out."""
    params = {"seed": seed, **(params or {})}
    proba = np.zeros((len(data), space.n_themes, space.n_classes))
    thresholds = np.zeros((len(data), space.n_themes))
    for _, test_idx, model, _, _ in fold_models(
        data, space, family=family, folds=folds, params=params, seed=seed, progress=progress
    ):
        proba[test_idx] = model.predict_proba([data.texts[i] for i in test_idx], audience=None)
        thresholds[test_idx] = model.thresholds_
    return proba, thresholds


def find_label_issues(
    data: LabeledData,
    *,
    family: str = "tfidf",
    folds: int = 5,
    params: dict | None = None,
    seed: int = 0,
    min_confidence: float = 0.5,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per likely issue, most likely first (see the module docstring)."""
    if folds < 2:
        raise LabelDataError(f"--folds: the audit needs at least 2 folds, got {folds}")
    space = LabelSpace.from_label_sets(data.label_sets, data.polarities)
    if not space.themes:
        raise LabelDataError(f"{data.source or 'data'}: no labels at all, nothing to audit")
    proba, thresholds = out_of_fold_proba(
        data, space, family=family, folds=folds, params=params, seed=seed, progress=progress
    )
    gold = space.encode(data.label_sets)
    given_p = np.take_along_axis(proba, gold[:, :, None], axis=2)[:, :, 0]  # p of the label as written
    expected = np.ones((space.n_themes, space.n_classes))
    for j in range(space.n_themes):
        for c in range(space.n_classes):
            carried = gold[:, j] == c
            if carried.any():
                expected[j, c] = max(float(given_p[carried, j].mean()), 1e-6)
    rows = []
    for i in range(len(data)):
        present = 1.0 - proba[i, :, 0]
        for j, theme in enumerate(space.themes):
            given = int(gold[i, j])
            polarity = int(proba[i, j, 1:].argmax()) + 1
            model_says = present[j] >= thresholds[i, j]
            if given == 0 and model_says:
                issue, label = "missing", format_label(theme, space.polarities[polarity - 1])
                why = f"the model gives {theme} presence {present[j]:.2f} (threshold {thresholds[i, j]:.2f})"
            elif given and not model_says:
                issue, label = "extra", format_label(theme, space.polarities[given - 1])
                why = f"the model gives {theme} presence {present[j]:.2f} only (threshold {thresholds[i, j]:.2f})"
            elif given and polarity != given:
                issue, label = "polarity", format_label(theme, space.polarities[given - 1])
                why = (
                    f"the model reads {theme} as {space.polarities[polarity - 1]} "
                    f"({proba[i, j, polarity]:.2f} against {proba[i, j, given]:.2f})"
                )
            else:
                continue
            confidence = max(0.0, 1.0 - float(given_p[i, j]) / expected[j, given])
            if confidence < min_confidence:
                continue
            suggested = _suggest(data.label_sets[i], theme, issue, space.polarities[polarity - 1])
            rows.append(
                {
                    "row": i + 1,
                    "text": data.texts[i],
                    "labels": "; ".join(data.label_sets[i]),
                    "issue": issue,
                    "label": label,
                    "suggested_labels": "; ".join(suggested),
                    "confidence": round(confidence, 4),
                    "why": why,
                }
            )
    out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    out = out.sort_values(["confidence", "row"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs.update(rows=len(data), family=family, folds=folds, seed=seed)
    return out


def _suggest(labels: list[str], theme: str, issue: str, polarity: str) -> list[str]:
    kept = [lab for lab in labels if lab.partition(":")[0] != theme]
    if issue == "extra":
        return kept
    return sorted(kept + [format_label(theme, polarity)])
