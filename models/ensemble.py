"""A weighted average of member models' probabilities, optionally routed by audience.

Members err differently — a fine-tuned encoder reads context, TF-IDF keys on the exact
words a theme is named with — so averaging their per-theme distributions is a cheap,
reliable gain. Each member is a complete artifact in a sub-folder; the ensemble's own
thresholds are tuned on its averaged output.

``routes`` gives each audience its own member weights: employee comments can go to an encoder
fine-tuned for them and customer comments to another, so the two sides do not crowd each other
out of one network, and each comment still runs through one encoder (a member with weight 0 for
an audience never sees that audience's comments). Comments of unknown audience use ``weights``.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Sequence

import numpy as np

from themesift.models.artifact import ModelFileError, resolve
from themesift.models.base import ThemeClassifier
from themesift.models.params import check_params

MEMBER_DIR = "member_{}"
MAX_DEPTH = 4  # ensembles of ensembles, nested; a deeper folder is a loop or a mistake
_LOADING: ContextVar[tuple[Path, ...]] = ContextVar("ensembles_being_loaded", default=())


class EnsembleClassifier(ThemeClassifier):
    """Parameters: the ``ensemble`` table in models.params (type, range, default and doc of each)."""

    family = "ensemble"

    def __init__(
        self,
        members: Sequence[dict] = ({"family": "finetune"}, {"family": "tfidf"}),
        weights: Sequence[float] | None = None,
        seed: int = 0,
        routes: dict[str, Sequence[float]] | None = None,
    ):
        self.members = [dict(m) for m in members]
        self.weights = list(weights) if weights is not None else None
        self.seed = seed
        self.routes = {k: list(v) for k, v in routes.items()} if routes else None

    def _weights(self, audience: str | None = None) -> np.ndarray:
        raw = self.weights if audience is None else self.routes[audience]
        w = np.ones(len(self.members_)) if raw is None else np.asarray(raw, dtype=float)
        if (
            len(w) != len(self.members_)
            or not np.isfinite(w).all()
            or (w < 0).any()
            or not np.isfinite(w.sum())
            or w.sum() <= 0
        ):
            where = "" if audience is None else f" for audience {audience!r}"
            raise ValueError(f"ensemble weights{where} must be finite, non-negative, one per member, not all zero")
        return w / w.sum()

    def _check_routes(self) -> None:
        from themesift.models.audience import AUDIENCES

        for audience in self.routes or {}:
            if audience not in AUDIENCES:
                raise ValueError(f"ensemble route for {audience!r}: routes are for {', '.join(AUDIENCES)}")
            self._weights(audience)

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
    def from_members(
        cls,
        members: Sequence[ThemeClassifier],
        weights: Sequence[float] | None = None,
        routes: dict[str, Sequence[float]] | None = None,
    ) -> EnsembleClassifier:
        """Combine already-trained models that share one label space (no retraining)."""
        spaces = {m.label_space_ for m in members}
        if len(spaces) != 1:
            raise ValueError("ensemble members must have the same themes and polarities")
        model = cls([{"family": m.family, **m.get_params()} for m in members], weights, routes=routes)
        model.members_ = list(members)
        model._check_routes()
        check_params(cls.family, model.get_params())  # --weights 1e308,1e308 would make every theme positive
        with_audiences = [m.audience_ for m in members if m.audience_ is not None]
        fallback = with_audiences[0] if with_audiences else None
        model.audience_ = next((a for a in with_audiences if a.can_detect), fallback)
        if routes and model.audience_ is None:
            raise ValueError("routes by audience need a member with audiences (trained with a taxonomy that has them)")
        model.label_space_ = members[0].label_space_
        model.thresholds_ = np.full(model.label_space_.n_themes, 0.5)
        return model

    def _predict_proba(self, texts):
        return self._predict_proba_as(texts, [None] * len(texts))

    def _window_limit(self):
        """The shortest member encoder's: every member then scores the same windows, so their
        averaged scores stay comparable (a bag-of-words member reads a window like any text)."""
        limits = [limit for m in self.members_ if (limit := m._window_limit()) is not None]
        return min(limits, key=lambda limit: limit[1]) if limits else None

    def _predict_proba_as(self, texts, audiences):
        # members unmasked: the ensemble masks the average once, with its own audiences
        groups: dict[str | None, list[int]] = {}
        for i, audience in enumerate(audiences):
            groups.setdefault(audience if self.routes and audience in self.routes else None, []).append(i)
        out = None
        for audience, rows in groups.items():
            part = [texts[i] for i in rows]
            proba = sum(
                wi * m.predict_proba(part, audience=None)
                for wi, m in zip(self._weights(audience), self.members_)
                if wi > 0
            )
            if out is None:
                out = np.zeros((len(texts),) + proba.shape[1:], dtype=proba.dtype)
            out[rows] = proba
        return out

    def _save_weights(self, directory: Path) -> None:
        for i, member in enumerate(self.members_):
            member.save(directory / MEMBER_DIR.format(i), include_audience=False)  # members score unmasked

    def _load_weights(self, directory: Path) -> None:
        from themesift.models.registry import load_artifact

        # a member linked to ".", "..", or to an ensemble that links back would load forever
        loading = _LOADING.get() + (resolve(directory),)
        if len(loading) > MAX_DEPTH:
            raise ModelFileError(f"{directory}: ensembles nested more than {MAX_DEPTH} deep")
        token = _LOADING.set(loading)
        try:
            self.members_ = []
            for i in range(len(self.members)):
                member = directory / MEMBER_DIR.format(i)
                real = resolve(member)
                if any(outer.is_relative_to(real) for outer in loading):
                    raise ModelFileError(
                        f"{member}: links to {real}, a folder that contains it or is being loaded (a loop): refused"
                    )
                self.members_.append(load_artifact(member))
        finally:
            _LOADING.reset(token)
        if any(m.label_space_ != self.label_space_ for m in self.members_):
            raise ModelFileError(f"{directory}: member label spaces differ from the ensemble's")
        self._weights()
        self._check_routes()
