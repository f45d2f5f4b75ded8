"""``themesift.train`` and ``themesift.evaluate``: training and scoring on data in memory.

Why here: the file-based ``themesift train`` reads its files and then runs the same
:func:`~themesift.training.train.fit_labeled`, so a model trained from Python and one trained
from the command line on the same rows, family and seed are the same model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from themesift.models.base import ThemeClassifier
from themesift.models.labels import POLARITIES, LabelSpace
from themesift.models.taxonomy import Taxonomy, load_taxonomy
from themesift.training.data import LabeledData, labeled_from_frame, labeled_from_lists
from themesift.training.evaluate import evaluate_model
from themesift.training.labels_io import LabelDataError

FAMILIES = ("tfidf", "embed", "finetune")


def _is_frame(value: Any) -> bool:
    return hasattr(value, "columns") and hasattr(value, "iloc")


def as_labeled(
    texts: Any,
    labels: Any = None,
    *,
    source: str = "data",
    text_column: str | None = None,
    labels_column: str = "labels",
    polarities: Sequence[str] | None = None,
    label_space: LabelSpace | None = None,
    known_themes: Sequence[str] | None = None,
) -> LabeledData:
    """Lists (``texts``, one label set per text) or a DataFrame (``labels``: None for the
    ``labels_column``, a column name, or a list of one-column-per-theme names) → LabeledData,
    read by the same rules as a file given to ``themesift train``."""
    if isinstance(texts, LabeledData):
        return texts
    if _is_frame(texts):
        label_columns = list(labels) if isinstance(labels, (list, tuple)) else None
        column = labels if isinstance(labels, str) else labels_column
        return labeled_from_frame(
            texts.reset_index(drop=True),
            source,
            text_column=text_column,
            labels_column=column,
            label_columns=label_columns,
            polarities=polarities,
            label_space=label_space,
            known_themes=known_themes,
        )
    if isinstance(texts, str):
        raise LabelDataError(f"{source}: texts must be a list of strings or a DataFrame, not one string")
    if labels is None:
        raise LabelDataError(f"{source}: labels are missing: give one label set per text")
    return labeled_from_lists(list(texts), list(labels), source=source, polarities=polarities, label_space=label_space)


def _taxonomy(taxonomy: Taxonomy | str | Path | None) -> Taxonomy | None:
    if taxonomy is None or isinstance(taxonomy, Taxonomy):
        return taxonomy
    return load_taxonomy(None if str(taxonomy) == "default" else taxonomy)


def train(
    texts: Any,
    labels: Any = None,
    family: str = "tfidf",
    dev: Any = None,
    taxonomy: Taxonomy | str | Path | None = None,
    *,
    seed: int = 0,
    dev_size: float = 0.1,
    text_column: str | None = None,
    labels_column: str = "labels",
    polarities: Sequence[str] | None = None,
    tune_thresholds: bool = True,
    refit: bool = False,
    **params: Any,
) -> ThemeClassifier:
    """Fit a model on texts and labels in memory; thresholds tuned on ``dev`` or a seeded slice.

    ``texts``/``labels``: lists (each label set a list of ``theme:polarity`` or one ``;``-joined
    string), or a DataFrame with a text column and labels (see :func:`as_labeled`). ``dev``: the
    same forms, a ``(texts, labels)`` pair or a DataFrame; default a stratified ``dev_size`` slice
    (``seed``). ``taxonomy``: a Taxonomy, a YAML path or ``"default"``; labels outside it are refused.
    ``params`` are the family's parameters (e.g. ``epochs=3`` for finetune). The model's
    ``metrics_`` holds the dev scores; ``model.save(dir)`` writes a folder ``load_model`` reads.
    """
    from themesift.training.train import fit_labeled

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    tax = _taxonomy(taxonomy)
    space = LabelSpace(tax.ids, tuple(polarities or POLARITIES)) if tax else None
    data = as_labeled(
        texts,
        labels,
        source="data",
        text_column=text_column,
        labels_column=labels_column,
        polarities=polarities,
        label_space=space,
    )
    dev_data = None
    if dev is not None:
        dev_texts, dev_labels = dev if isinstance(dev, tuple) else (dev, None)
        dev_data = as_labeled(
            dev_texts,
            dev_labels,
            source="dev",
            text_column=text_column,
            labels_column=labels_column,
            polarities=polarities,
            label_space=space,
        )
    fitted = fit_labeled(
        data,
        family=family,
        params=params,
        dev=dev_data,
        taxonomy=tax,
        seed=seed,
        dev_size=dev_size,
        tune=tune_thresholds,
        refit=refit,
        dev_note="dev given to train()",
    )
    model = fitted.model
    model.metrics_ = {
        "family": family,
        "dev": fitted.dev_metrics,
        "dev_source": fitted.dev_note,
        "train_rows": len(fitted.fit_data),
        "train_hash": fitted.fit_data.data_hash(),
    }
    model.taxonomy_ = tax
    return model


def evaluate(
    model: ThemeClassifier | str | Path | None,
    texts: Any,
    labels: Any = None,
    *,
    text_column: str | None = None,
    labels_column: str = "labels",
) -> dict:
    """Score ``model`` (an object, a model folder, or None for the shipped default) on texts and
    gold labels in memory: the figures ``themesift evaluate`` prints, as a dict. Gold themes the
    model does not know are still counted as misses, and listed under ``"unknown_themes"``."""
    if model is None or isinstance(model, (str, Path)):
        from themesift.serve.predict import load_model

        model = load_model(model)
    space = model.label_space_
    data = as_labeled(
        texts,
        labels,
        source="data",
        text_column=text_column,
        labels_column=labels_column,
        polarities=space.polarities,
        known_themes=space.themes,
    )
    return evaluate_model(model, data.texts, data.label_sets)
