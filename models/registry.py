"""Family names → classes, and loading any artifact by the family its config names."""

from __future__ import annotations

import importlib
from pathlib import Path

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.params import ParamError, check_params

# Imported on first use: loading a transformer model should not pay for scikit-learn's
# text module, nor a tfidf model for torch.
FAMILIES: dict[str, str] = {
    "tfidf": "themesift.models.tfidf:TfidfClassifier",
    "embed": "themesift.models.embed:EmbedClassifier",
    "finetune": "themesift.models.finetune:FinetuneClassifier",
    "ensemble": "themesift.models.ensemble:EnsembleClassifier",
    "zeroshot": "themesift.models.zeroshot:ZeroShotClassifier",
}


def family_class(family: str) -> type[ThemeClassifier]:
    try:
        module, _, name = FAMILIES[family].partition(":")
    except (KeyError, TypeError):
        raise ParamError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}") from None
    return getattr(importlib.import_module(module), name)


def make_model(family: str, **params) -> ThemeClassifier:
    """A new, unfitted model; ``params`` are checked against the family's table (models.params)."""
    checked = check_params(family, params)  # before importing the family: a typo costs no torch import
    return family_class(family)(**checked)


def load_artifact(path: str | Path) -> ThemeClassifier:
    """Load a model directory written by ``ThemeClassifier.save`` (JSON + safetensors only)."""
    path = artifact.check_artifact_dir(path)
    family = artifact.read_config(path)["family"]
    if family not in FAMILIES:
        raise artifact.ModelFileError(
            f"{path / artifact.CONFIG}: unknown model family {family!r}; this themesift reads {', '.join(FAMILIES)}"
        )
    return family_class(family).load(path)
