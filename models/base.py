"""The estimator contract every classifier family follows.

Like scikit-learn: the constructor only stores its arguments; ``fit`` learns; ``predict``
and ``predict_proba`` infer. Unlike flat multi-label classifiers, each theme is one
categorical variable over {absent, polarity_1, ..., polarity_P}, so "present with exactly
one polarity" holds by construction.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar, Sequence, Union

import numpy as np

from themesift.models import artifact
from themesift.models.audience import AUDIENCE_DIR, AudienceModel, per_text_audiences
from themesift.models.labels import LabelSpace
from themesift.models.taxonomy import Taxonomy
from themesift.models.windows import TokenCounter, score_windowed


Audience = Union[str, Sequence[Union[str, None]], None]


class NotFittedError(RuntimeError):
    pass


class ThemeClassifier:
    """Base class: subclasses implement ``_fit``, ``_predict_proba``, ``_save_weights``, ``_load_weights``."""

    family: ClassVar[str] = ""
    audience_: AudienceModel | None = None  # theme audiences + detector, when the taxonomy declares audiences

    # -- scikit-learn style parameters -------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "ThemeClassifier":
        for key, value in params.items():
            if key not in self._param_names():
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ----------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        label_sets: Sequence[Sequence[str]],
        *,
        label_space: LabelSpace | None = None,
        dev: tuple[Sequence[str], Sequence[Sequence[str]]] | None = None,
    ) -> "ThemeClassifier":
        """Learn from texts and their ``theme:polarity`` label sets.

        ``label_space`` fixes the themes (e.g. a taxonomy's, including themes with no
        examples); ``dev`` is used by families that early-stop.
        """
        texts = _check_texts(texts)
        if len(texts) != len(label_sets):
            raise ValueError(f"{len(texts)} texts but {len(label_sets)} label sets")
        self.label_space_ = label_space or LabelSpace.from_label_sets(label_sets)
        y = self.label_space_.encode(label_sets)
        dev_enc = None
        if dev is not None:
            dev_enc = (_check_texts(dev[0]), self.label_space_.encode(dev[1]))
        self.thresholds_ = np.full(self.label_space_.n_themes, 0.5)
        self._fit(texts, y, dev_enc)
        return self

    def _fit(self, texts: list[str], y: np.ndarray, dev: tuple[list[str], np.ndarray] | None) -> None:
        raise NotImplementedError

    # -- inference --------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str], audience: Audience = "auto") -> np.ndarray:
        """Probabilities, shape (n_texts, n_themes, 1 + n_polarities); column 0 is "absent".

        With audiences (see models.audience), the other audience's themes are certainly absent:
        ``audience`` is ``"auto"`` (detected per text), ``"employee"``, ``"customer"``, one value per
        text, or None for the unmasked scores."""
        self._check_fitted()
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.label_space_.n_themes, self.label_space_.n_classes))
        if audience is None or self.audience_ is None:
            return self._predict_proba_as(texts, [None] * len(texts))
        rows = self.audience_.resolve(texts, audience)
        return self.audience_.mask(self._predict_proba_as(texts, rows), self.label_space_.themes, rows)

    def _predict_proba_as(self, texts: list[str], audiences: list[str | None]) -> np.ndarray:
        """Unmasked probabilities, knowing each text's audience (None: unknown); an ensemble that
        routes each audience to its own members overrides this, other families ignore it.
        Texts longer than the encoder reads are scored window by window (models.windows)."""
        return score_windowed(texts, self._predict_proba, self._token_counter(), getattr(self, "max_length", 0))

    def _token_counter(self) -> TokenCounter | None:
        """Families whose encoder truncates at ``max_length`` tokens return a counter of tokens
        per text, so long texts are read in windows; the others read any length (None)."""
        return None

    def predict_audience(self, texts: Sequence[str], audience: Audience = "auto") -> list[str | None]:
        """Each text's audience: the one given, else detected; None where the model cannot tell."""
        texts = _check_texts(texts)
        if self.audience_ is None:
            return per_text_audiences(audience, len(texts))
        return self.audience_.resolve(texts, audience)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: Sequence[str], audience: Audience = "auto") -> list[list[str]]:
        return self.decode(self.predict_proba(texts, audience))

    def decode(self, proba: np.ndarray) -> list[list[str]]:
        """Turn probabilities into label sets with the per-theme thresholds."""
        present = presence_scores(proba) >= self.thresholds_[None, :]
        polarity = proba[:, :, 1:].argmax(axis=2) + 1
        return self.label_space_.decode(np.where(present, polarity, 0))

    @property
    def themes(self) -> tuple[str, ...]:
        self._check_fitted()
        return self.label_space_.themes

    def set_thresholds(self, thresholds: dict[str, float] | np.ndarray) -> None:
        self._check_fitted()
        if isinstance(thresholds, dict):
            values = np.array([float(thresholds.get(t, 0.5)) for t in self.label_space_.themes])
        else:
            values = np.asarray(thresholds, dtype=float)
        if values.shape != (self.label_space_.n_themes,):
            raise ValueError("one threshold per theme expected")
        self.thresholds_ = values

    def _check_fitted(self) -> None:
        if not hasattr(self, "label_space_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() or load()")

    # -- artifacts --------------------------------------------------------------------
    def save(self, path: str | Path, *, taxonomy: Taxonomy | None = None, metrics: dict | None = None,
             card: str | None = None, force: bool = False, include_audience: bool = True) -> Path:
        """Write config, labels, thresholds and weights to a directory, atomically; an existing
        ``path`` that is not a model is refused unless ``force``. ``include_audience=False`` leaves
        the audience folder out (an ensemble's members: the ensemble keeps the one copy it uses)."""
        self._check_fitted()
        with artifact.atomic_directory(path, force=force) as tmp:
            artifact.write_json(tmp / artifact.CONFIG, {
                "format_version": artifact.FORMAT_VERSION,
                "family": self.family,
                "params": self.get_params(),
            })
            artifact.write_json(tmp / artifact.LABELS, self.label_space_.to_json())
            artifact.write_json(tmp / artifact.THRESHOLDS, dict(zip(self.label_space_.themes, map(float, self.thresholds_))))
            if taxonomy is not None:
                artifact.write_json(tmp / artifact.TAXONOMY, taxonomy.to_json())
            if metrics is not None:
                artifact.write_json(tmp / artifact.METRICS, metrics)
            if card is not None:
                (tmp / artifact.CARD).write_text(card, "utf-8")
            if self.audience_ is not None and include_audience:
                self.audience_.save(tmp / AUDIENCE_DIR)
            self._save_weights(tmp)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "ThemeClassifier":
        path = artifact.check_artifact_dir(path)
        config = artifact.read_json(path / artifact.CONFIG)
        if config.get("family") != cls.family:
            raise ValueError(f"{path} holds a {config.get('family')!r} model, not {cls.family!r}")
        model = cls(**config.get("params", {}))
        model.label_space_ = LabelSpace.from_json(artifact.read_json(path / artifact.LABELS))
        model.thresholds_ = np.full(model.label_space_.n_themes, 0.5)
        if (path / artifact.THRESHOLDS).is_file():
            model.set_thresholds(artifact.read_json(path / artifact.THRESHOLDS))
        if (path / AUDIENCE_DIR).is_dir():
            model.audience_ = AudienceModel.load(path / AUDIENCE_DIR)
            unknown = sorted(set(model.audience_.theme_audiences) - set(model.label_space_.themes))
            if unknown:
                raise ValueError(f"{path}: audiences given for themes the model lacks: {unknown}")
        model._load_weights(path)
        return model

    def _save_weights(self, directory: Path) -> None:
        raise NotImplementedError

    def _load_weights(self, directory: Path) -> None:
        raise NotImplementedError


def presence_scores(proba: np.ndarray) -> np.ndarray:
    """P(theme present) = 1 - P(absent), shape (n_texts, n_themes)."""
    return 1.0 - proba[:, :, 0]


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("expected a sequence of texts, got a single string; wrap it in a list")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"text #{i} is {type(t).__name__}, not str")
    return out
