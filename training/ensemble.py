"""Combine trained artifacts into one, thresholds tuned on dev: an ensemble (probabilities
averaged, every member runs) or a weight soup (weights averaged, one model runs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.ensemble import EnsembleClassifier
from themesift.models.finetune_soup import weight_soup
from themesift.models.registry import load_artifact
from themesift.models.taxonomy import Taxonomy
from themesift.training.card import model_card
from themesift.training.data import load_labeled
from themesift.training.evaluate import evaluate_label_sets
from themesift.training.provenance import hardware, package_versions
from themesift.training.thresholds import tune_thresholds
from themesift.training.train import audience_summary


@dataclass
class CombinedResult:
    model: ThemeClassifier
    metrics: dict
    path: Path


def build_ensemble(
    members: Sequence[str | Path],
    dev: str | Path,
    output: str | Path,
    *,
    weights: Sequence[float] | None = None,
    routes: dict[str, Sequence[float]] | None = None,
    test: str | Path | None = None,
    text_column: str | None = None,
    labels_column: str = "labels",
    label_columns: Sequence[str] | None = None,
    polarities: Sequence[str] | None = None,
    force: bool = False,
) -> CombinedResult:
    """Average ``members``' probabilities (weighted; per audience with ``routes``), tune per-theme
    thresholds on ``dev``, save."""
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two --member models")
    artifact.check_output_dir(output, force)
    started = time.time()
    models = [load_artifact(m) for m in members]
    model = EnsembleClassifier.from_members(models, weights, routes=routes)
    extra = {"weights": list(model._weights())}
    if routes:
        extra["routes"] = {a: list(model._weights(a)) for a in routes}
    read = {
        "text_column": text_column,
        "labels_column": labels_column,
        "label_columns": label_columns,
        "polarities": polarities,
    }
    return _tune_and_save(
        model, "ensemble", members, models, started, dev, output, test=test, read=read, extra=extra, force=force
    )


def build_soup(
    members: Sequence[str | Path],
    dev: str | Path | None,
    output: str | Path,
    *,
    thresholds_from: str | Path | None = None,
    test: str | Path | None = None,
    text_column: str | None = None,
    labels_column: str = "labels",
    label_columns: Sequence[str] | None = None,
    polarities: Sequence[str] | None = None,
    force: bool = False,
) -> CombinedResult:
    """Average the weights of finetune ``members`` that share an ``init_seed`` (finetune_soup), tune
    per-theme thresholds on ``dev``, save one finetune artifact.

    Members refit on train + dev (``train --refit``) have seen dev, so their soup takes its thresholds,
    and the dev scores it reports, from ``thresholds_from``: the soup of the same runs before the refit."""
    if len(members) < 2:
        raise ValueError("a soup needs at least two --member models")
    if (dev is None) == (thresholds_from is None):
        raise ValueError("give one of: a dev file to tune thresholds on, or a model to take them from")
    artifact.check_output_dir(output, force)
    started = time.time()
    models = [load_artifact(m) for m in members]
    if any(m.family != "finetune" for m in models):
        raise ValueError("a soup averages finetune models; use `themesift ensemble` for other families")
    read = {
        "text_column": text_column,
        "labels_column": labels_column,
        "label_columns": label_columns,
        "polarities": polarities,
    }
    return _tune_and_save(
        weight_soup(models),
        "finetune (weight soup)",
        members,
        models,
        started,
        dev,
        output,
        test=test,
        read=read,
        thresholds_from=thresholds_from,
        force=force,
    )


def _thresholds_of(model: ThemeClassifier, source: str | Path) -> tuple[dict, dict | None, dict | None]:
    """``source``'s thresholds, dev scores and dev data, checked against ``model``'s themes."""
    source = Path(source)
    thresholds = artifact.read_json(source / artifact.THRESHOLDS)
    if sorted(thresholds) != sorted(model.label_space_.themes):
        raise ValueError(f"{source} has thresholds for other themes than the members: {sorted(thresholds)}")
    metrics = artifact.read_json(source / artifact.METRICS) if (source / artifact.METRICS).is_file() else {}
    dev_data = (metrics.get("data") or {}).get("dev")
    if dev_data:
        dev_data = {**dev_data, "source": f"{dev_data.get('source')}, via {source}"}
    return thresholds, metrics.get("dev"), dev_data


def _tune_and_save(
    model: ThemeClassifier,
    kind: str,
    members,
    models,
    started: float,
    dev,
    output,
    *,
    test,
    read: dict,
    extra: dict | None = None,
    thresholds_from: str | Path | None = None,
    force: bool = False,
) -> CombinedResult:
    """``read``: the shared labeled-input flags (text_column, labels_column, label_columns, polarities)."""
    space = model.label_space_

    def load(path):
        return load_labeled(
            path,
            label_space=space,
            known_themes=space.themes,
            **{**read, "polarities": read.get("polarities") or space.polarities},
        )

    if thresholds_from is not None:
        thresholds, dev_scores, dev_info = _thresholds_of(model, thresholds_from)
        model.set_thresholds(thresholds)
        extra = {**(extra or {}), "thresholds_from": str(thresholds_from)}
    else:
        dev_data = load(dev)
        proba = model.predict_proba(dev_data.texts)
        model.set_thresholds(tune_thresholds(proba, space.encode(dev_data.label_sets)))
        dev_scores = evaluate_label_sets(dev_data.label_sets, model.decode(proba), themes=space.themes)
        dev_info = {"source": f"file {dev}", "rows": len(dev_data), "hash": dev_data.data_hash()}
    member_metrics = [
        artifact.read_json(Path(m) / artifact.METRICS) if (Path(m) / artifact.METRICS).is_file() else {}
        for m in members
    ]
    metrics = {
        "family": kind,
        "members": [
            {
                "path": str(m),
                "family": mm.family,
                "data": met.get("data"),
                "training_seconds": met.get("training_seconds"),
            }
            for m, mm, met in zip(members, models, member_metrics)
        ],
        **(extra or {}),
        "seed": model.seed,
        "data": {
            "train": (member_metrics[0].get("data") or {}).get("train", {"path": "see members", "rows": 0, "hash": ""}),
            "dev": dev_info,
        },
        "thresholds": dict(zip(space.themes, map(float, model.thresholds_))),
        "training_seconds": round(
            sum(met.get("training_seconds") or 0 for met in member_metrics) + time.time() - started, 1
        ),
        "versions": package_versions(),
        "hardware": hardware(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dev": dev_scores,
    }
    if model.audience_ is not None and thresholds_from is None:
        metrics["audience"] = audience_summary(model, dev_data)
    if test:
        test_data = load(test)
        metrics["data"]["test"] = {"path": str(test), "rows": len(test_data), "hash": test_data.data_hash()}
        metrics["test"] = evaluate_label_sets(test_data.label_sets, model.predict(test_data.texts), themes=space.themes)
    taxonomies = [
        Taxonomy.from_json(artifact.read_json(Path(m) / artifact.TAXONOMY))
        for m in members
        if (Path(m) / artifact.TAXONOMY).is_file()
    ]
    # a member trained before its taxonomy declared audiences keeps an older copy: prefer one that has them
    taxonomy = next((t for t in taxonomies if t.audiences()), taxonomies[0] if taxonomies else None)
    path = model.save(output, taxonomy=taxonomy, metrics=metrics, card=model_card(model, metrics), force=force)
    return CombinedResult(model, metrics, path)
