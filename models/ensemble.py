"""A weighted average of member models' probabilities.

Members err differently — a fine-tuned encoder reads context, TF-IDF keys on the exact
words a theme is named with — so averaging their per-theme distributions is a cheap,
reliable gain. Each member is a complete artifact in a sub-folder; the ensemble's own
thresholds are tuned on its averaged output.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from themesift.models.base import ThemeClassifier

MEMBER_DIR = "member_{}"


class EnsembleClassifier(ThemeClassifier):
    family = "ensemble"

    def __init__(self, members: Sequence[dict] = ({"family": "finetune"}, {"family": "tfidf"}),
                 weights: Sequence[float] | None = None, seed: int = 0):
        self.members = [dict(m) for m in members]
        self.weights = list(weights) if weights is not None else None
        self.seed = seed

    def _weights(self) -> np.ndarray:
        w = np.ones(len(self.members_)) if self.weights is None else np.asarray(self.weights, dtype=float)
        if len(w) != len(self.members_) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("ensemble weights must be non-negative, one per member, not all zero")
        return w / w.sum()

    def _fit(self, texts, y, dev) -> None:
        from themesift.models.registry import make_model

        space = self.label_space_
        dev_sets = None if dev is None else (dev[0], space.decode(dev[1]))
        self.members_ = []
        for spec in self.members:
            params = {k: v for k, v in spec.items() if k != "family"}
            params.setdefault("seed", self.seed)
            member = make_model(spec["family"], **params)
            member.fit(texts, space.decode(y), label_space=space, dev=dev_sets)
            self.members_.append(member)

    @classmethod
    def from_members(cls, members: Sequence[ThemeClassifier], weights: Sequence[float] | None = None) -> "EnsembleClassifier":
        """Combine already-trained models that share one label space (no retraining)."""
        spaces = {m.label_space_ for m in members}
        if len(spaces) != 1:
            raise ValueError("ensemble members must have the same themes and polarities")
        model = cls([{"family": m.family, **m.get_params()} for m in members], weights)
        model.members_ = list(members)
        model.audience_ = next((m.audience_ for m in members if m.audience_ is not None), None)
        model.label_space_ = members[0].label_space_
        model.thresholds_ = np.full(model.label_space_.n_themes, 0.5)
        return model

    def _predict_proba(self, texts):
        w = self._weights()
        # unmasked: the ensemble masks the average once, with its own audiences
        return sum(wi * m.predict_proba(texts, audience=None) for wi, m in zip(w, self.members_))

    def _save_weights(self, directory: Path) -> None:
        for i, member in enumerate(self.members_):
            member.save(directory / MEMBER_DIR.format(i))

    def _load_weights(self, directory: Path) -> None:
        from themesift.models.registry import load_artifact

        self.members_ = [load_artifact(directory / MEMBER_DIR.format(i)) for i in range(len(self.members))]
        if any(m.label_space_ != self.label_space_ for m in self.members_):
            raise ValueError(f"{directory}: member label spaces differ from the ensemble's")
