"""Family names → classes, and loading any artifact by the family its config names."""
from __future__ import annotations

from pathlib import Path

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.embed import EmbedClassifier
from themesift.models.finetune import FinetuneClassifier
from themesift.models.tfidf import TfidfClassifier

FAMILIES: dict[str, type[ThemeClassifier]] = {
    cls.family: cls for cls in (TfidfClassifier, EmbedClassifier, FinetuneClassifier)
}


def make_model(family: str, **params) -> ThemeClassifier:
    try:
        cls = FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}") from None
    return cls(**params)


def load_artifact(path: str | Path) -> ThemeClassifier:
    """Load a model directory written by ``ThemeClassifier.save`` (JSON + safetensors only)."""
    path = artifact.check_artifact_dir(path)
    family = artifact.read_json(path / artifact.CONFIG).get("family")
    if family not in FAMILIES:
        raise ValueError(f"{path}: unknown model family {family!r}")
    return FAMILIES[family].load(path)
