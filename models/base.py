"""The estimator contract every classifier family follows.

Like scikit-learn: the constructor only stores its arguments; ``fit`` learns; ``predict``
and ``predict_proba`` infer. Unlike flat multi-label classifiers, each theme is one
categorical variable over {absent, polarity_1, ..., polarity_P}, so "present with exactly
one polarity" holds by construction.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence, Union

import numpy as np

from themesift.models import artifact
from themesift.models.artifact import ModelFileError
from themesift.models.audience import AUDIENCE_DIR, AudienceModel, per_text_audiences
from themesift.models.labels import LabelSpace
from themesift.models.params import ParamError, check_params
from themesift.models.taxonomy import Taxonomy
from themesift.models.windows import TokenCounter, combine_windows, split_windows

MAX_THEMES = 10_000  # labels.json bounds: beyond these a folder is corrupt, not a taxonomy
MAX_POLARITIES = 20
MAX_NAME = 200


Audience = Union[str, Sequence[Union[str, None]], None]


class NotFittedError(RuntimeError):
    pass


class ThemeClassifier:
    """Base class: subclasses implement ``_fit``, ``_predict_proba``, ``_save_weights``, ``_load_weights``.

    Each family's parameters (type, range, default, doc) are one table in ``models.params``,
    checked by ``make_model``, ``set_params``, ``fit`` and ``load``."""

    family: ClassVar[str] = ""
    audience_: AudienceModel | None = None  # theme audiences + detector, when the taxonomy declares audiences

    # -- scikit-learn style parameters -------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ThemeClassifier:
        """Change parameters, each checked against the family's table (models.params)."""
        for key in params:
            if key not in self._param_names():
                raise ParamError(f"{self.family} has no parameter {key!r}")
        check_params(self.family, {**self.get_params(), **params})
        for key, value in params.items():
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
    ) -> ThemeClassifier:
        """Learn from texts and their ``theme:polarity`` label sets.

        ``label_space`` fixes the themes (e.g. a taxonomy's, including themes with no
        examples); ``dev`` is used by families that early-stop.
        """
        check_params(self.family, self.get_params())  # a constructor only stores: values are checked here
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
            return self._predict_windowed(texts, [None] * len(texts))
        rows = self.audience_.resolve(texts, audience)
        return self.audience_.mask(self._predict_windowed(texts, rows), self.label_space_.themes, rows)

    def _predict_windowed(self, texts: list[str], audiences: list[str | None]) -> np.ndarray:
        """Texts longer than the encoder reads are scored window by window (models.windows)."""
        limit = self._window_limit()
        if limit is None:
            return self._predict_proba_as(texts, audiences)
        window_texts, owner = split_windows(texts, *limit)
        if len(window_texts) == len(texts):
            return self._predict_proba_as(texts, audiences)
        proba = self._predict_proba_as(window_texts, [audiences[i] for i in owner])
        return combine_windows(proba, owner, len(texts))

    def _window_limit(self) -> tuple[TokenCounter, int] | None:
        """Families whose encoder truncates return (tokens-per-text counter, max tokens), so long
        texts are read in windows; the others read any length (None)."""
        return None

    def _predict_proba_as(self, texts: list[str], audiences: list[str | None]) -> np.ndarray:
        """Unmasked probabilities, knowing each text's audience (None: unknown); an ensemble that
        routes each audience to its own members overrides this, other families ignore it."""
        return self._predict_proba(texts)

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

    def set_thresholds(self, thresholds: Mapping[str, float] | np.ndarray) -> None:
        """Per-theme presence thresholds, each above 0 and at most 1 (0 or less would put every theme
        on every comment); a mapping may leave themes out (they keep 0.5) but not name unknown ones."""
        self._check_fitted()
        themes = self.label_space_.themes
        if isinstance(thresholds, Mapping):
            unknown = sorted(str(t) for t in set(thresholds) - set(themes))
            if unknown:
                raise ValueError(f"thresholds given for themes the model lacks: {', '.join(unknown[:5])}")
            values = [thresholds.get(t, 0.5) for t in themes]
        else:
            values = list(np.asarray(thresholds).reshape(-1))
            if len(values) != len(themes) or np.ndim(thresholds) != 1:
                raise ValueError(f"one threshold per theme expected ({len(themes)}), got shape {np.shape(thresholds)}")
        for theme, value in zip(themes, values):
            if not (
                isinstance(value, numbers.Real)
                and not isinstance(value, (bool, np.bool_))
                and math.isfinite(value)
                and 0 < value <= 1
            ):
                raise ValueError(f"threshold of theme {theme!r} must be a number above 0 and at most 1, got {value!r}")
        self.thresholds_ = np.asarray(values, dtype=float)

    def _check_fitted(self) -> None:
        if not hasattr(self, "label_space_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() or load()")

    # -- artifacts --------------------------------------------------------------------
    def save(
        self,
        path: str | Path,
        *,
        taxonomy: Taxonomy | None = None,
        metrics: dict | None = None,
        card: str | None = None,
        force: bool = False,
        include_audience: bool = True,
    ) -> Path:
        """Write config, labels, thresholds and weights to a directory, atomically; an existing
        ``path`` that is not a model is refused unless ``force``. ``include_audience=False`` leaves
        the audience folder out (an ensemble's members: the ensemble keeps the one copy it uses)."""
        self._check_fitted()
        with artifact.atomic_directory(path, force=force) as tmp:
            artifact.write_json(
                tmp / artifact.CONFIG,
                {
                    "format_version": artifact.FORMAT_VERSION,
                    "family": self.family,
                    "params": self.get_params(),
                },
            )
            artifact.write_json(tmp / artifact.LABELS, self.label_space_.to_json())
            thresholds = dict(zip(self.label_space_.themes, map(float, self.thresholds_)))
            artifact.write_json(tmp / artifact.THRESHOLDS, thresholds)
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
    def load(cls, path: str | Path) -> ThemeClassifier:
        """Read a model folder as untrusted input: every file bounded and checked (models.artifact),
        the parameters against the family's table; any fault is a ModelFileError naming the file."""
        path = artifact.check_artifact_dir(path)
        config_file = path / artifact.CONFIG
        config = artifact.read_config(path)
        if config["family"] != cls.family:
            raise ModelFileError(f"{config_file}: holds a {config['family']!r} model, not {cls.family!r}")
        try:
            model = cls(**check_params(cls.family, config.get("params", {}), f"{config_file}: "))
        except ParamError as exc:
            raise ModelFileError(str(exc)) from None
        model.label_space_ = _read_label_space(path / artifact.LABELS)
        model.thresholds_ = np.full(model.label_space_.n_themes, 0.5)
        if os.path.lexists(path / artifact.THRESHOLDS):
            thresholds = artifact.read_json(path / artifact.THRESHOLDS)
            if not isinstance(thresholds, dict):
                raise ModelFileError(f"{path / artifact.THRESHOLDS}: must map each theme to its threshold")
            try:
                model.set_thresholds(thresholds)
            except ValueError as exc:
                raise ModelFileError(f"{path / artifact.THRESHOLDS}: {exc}") from None
        if (path / AUDIENCE_DIR).is_dir():
            model.audience_ = AudienceModel.load(path / AUDIENCE_DIR)
            unknown = sorted(set(model.audience_.theme_audiences) - set(model.label_space_.themes))
            if unknown:
                raise ModelFileError(f"{path / AUDIENCE_DIR}: audiences given for themes the model lacks: {unknown}")
        for weights in sorted(path.glob("*.safetensors")):  # before a family hands them to torch
            artifact.check_tensors(weights)
        try:
            model._load_weights(path)
        except ModelFileError:
            raise
        except (KeyError, RuntimeError, ValueError, TypeError, IndexError, OSError) as exc:
            raise ModelFileError(
                f"{path}: its weights could not be loaded with its {artifact.CONFIG} and "
                f"{artifact.LABELS} ({artifact.first_line(exc)})"
            ) from None
        _check_max_length(model, config_file)
        return model

    def _save_weights(self, directory: Path) -> None:
        raise NotImplementedError

    def _load_weights(self, directory: Path) -> None:
        raise NotImplementedError


def _read_label_space(path: Path) -> LabelSpace:
    """labels.json: unique theme names and polarities, within bounds that no real taxonomy reaches."""
    data = artifact.read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("themes"), list):
        raise ModelFileError(f"{path}: must be an object with a 'themes' list")
    polarities = data.get("polarities", list(LabelSpace(()).polarities))
    for key, values, limit in (("themes", data["themes"], MAX_THEMES), ("polarities", polarities, MAX_POLARITIES)):
        if not isinstance(values, list) or not 1 <= len(values) <= limit:
            raise ModelFileError(f"{path}: '{key}' must be a list of 1 to {limit} names")
        bad = next((v for v in values if not isinstance(v, str) or not 0 < len(v) <= MAX_NAME), None)
        if bad is not None:
            raise ModelFileError(f"{path}: '{key}' holds {bad!r}, not a name of 1 to {MAX_NAME} characters")
        if len(set(values)) != len(values):
            raise ModelFileError(f"{path}: '{key}' lists {next(v for v in values if values.count(v) > 1)!r} twice")
    return LabelSpace(tuple(data["themes"]), tuple(polarities))


def _check_max_length(model: ThemeClassifier, config_file: Path) -> None:
    """An encoder family's ``max_length`` within what its tokenizer declares (MiniLM: 512):
    beyond it a long comment fails inside the runtime instead of loading cleanly."""
    limit = getattr(getattr(model, "tokenizer_", None), "model_max_length", None)
    length = getattr(model, "max_length", None)
    if isinstance(limit, int) and isinstance(length, int) and limit < 10**6 and length > limit:
        raise ModelFileError(f"{config_file}: 'max_length' {length} is over the base model's limit of {limit} tokens")


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
