"""Seeded multi-label iterative stratification that never splits copies of one text.

Stratification runs over groups of identical (normalised, case-folded) texts, so a
duplicate can never sit in train and dev at once and inflate dev scores.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit


def _groups(texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
    key_to_group: dict[str, int] = {}
    members: list[list[int]] = []
    for i, text in enumerate(texts):
        key = " ".join(text.casefold().split())
        g = key_to_group.setdefault(key, len(members))
        if g == len(members):
            members.append([])
        members[g].append(i)
    return members, [m[0] for m in members]


def _group_matrix(members: list[list[int]], label_sets: Sequence[Sequence[str]]) -> np.ndarray:
    """One row per group: which labels (theme:polarity and bare theme) any member has."""
    vocab = sorted({x for labels in label_sets for lab in labels for x in (lab, lab.split(":")[0])})
    index = {lab: j for j, lab in enumerate(vocab)}
    Y = np.zeros((len(members), max(len(vocab), 1)), dtype=np.int8)
    for g, rows in enumerate(members):
        for i in rows:
            for lab in label_sets[i]:
                Y[g, index[lab]] = 1
                Y[g, index[lab.split(":")[0]]] = 1
    return Y


def _expand(members: list[list[int]], group_idx: np.ndarray) -> np.ndarray:
    return np.array(sorted(i for g in group_idx for i in members[g]), dtype=np.int64)


def train_test_split(
    texts: Sequence[str], label_sets: Sequence[Sequence[str]], *, test_size: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, held-out), stratified on every label, duplicates kept together."""
    if not 0 < test_size < 1:
        raise ValueError("test_size must be between 0 and 1")
    members, _ = _groups(texts)
    if len(members) < 2:
        raise ValueError("need at least two distinct texts to split")
    Y = _group_matrix(members, label_sets)
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_g, test_g = next(splitter.split(np.zeros(len(members)), Y))
    return _expand(members, train_g), _expand(members, test_g)


def kfold(
    texts: Sequence[str], label_sets: Sequence[Sequence[str]], *, folds: int = 5, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) row indices for each of ``folds`` stratified folds."""
    members, _ = _groups(texts)
    if len(members) < folds:
        raise ValueError(f"{len(members)} distinct texts cannot make {folds} folds")
    Y = _group_matrix(members, label_sets)
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_g, test_g in splitter.split(np.zeros(len(members)), Y):
        yield _expand(members, train_g), _expand(members, test_g)
