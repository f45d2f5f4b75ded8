"""Train → tune thresholds on dev → score → write the artifact: the one path every
family and the default model go through."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from themesift.models import artifact
from themesift.models.audience import AudienceModel, infer_audiences
from themesift.models.base import ThemeClassifier
from themesift.models.labels import LabelSpace
from themesift.models.registry import make_model
from themesift.models.taxonomy import Taxonomy, load_taxonomy
from themesift.training.card import model_card
from themesift.training.data import LabeledData, load_labeled
from themesift.training.evaluate import evaluate_label_sets
from themesift.training.provenance import hardware, package_versions
from themesift.training.splits import train_test_split
from themesift.training.thresholds import tune_thresholds


@dataclass
class TrainConfig:
    """Everything that defines a training run; stored verbatim in the artifact's metrics."""

    data: str
    output: str
    family: str = "tfidf"
    params: dict = field(default_factory=dict)
    dev: str | None = None
    test: str | None = None
    dev_size: float = 0.1
    seed: int = 0
    text_column: str = "text"
    labels_column: str = "labels"
    label_columns: list[str] | None = None
    taxonomy: str | None = None
    default_taxonomy: bool = False
    tune_thresholds: bool = True
    polarities: list[str] | None = None  # None: positive/negative/neutral; e.g. add "conflict" for SemEval
    # Once settings are fixed, train again on train + dev (its thresholds kept): more data for the final
    # model. Dev then cannot stop training early, so the first fit runs its full epoch budget too.
    refit: bool = False
    # Column of each row's audience (employee/customer) for the audience detector; default: "audience" if
    # present, else inferred from the labels where they all belong to one audience.
    audience_column: str | None = None
    exclude: list[str] = field(default_factory=list)  # COLUMN=VALUE rows left out of train and dev
    force: bool = False  # replace an existing output that is not a themesift model


@dataclass
class TrainResult:
    model: ThemeClassifier
    metrics: dict
    path: Path


def _load(cfg: TrainConfig, path: str, space: LabelSpace | None, *, test: bool = False) -> LabeledData:
    return load_labeled(path, text_column=cfg.text_column, labels_column=cfg.labels_column,
                        label_columns=cfg.label_columns, label_space=space, polarities=cfg.polarities,
                        audience_column=cfg.audience_column, exclude=() if test else cfg.exclude)


def train(cfg: TrainConfig) -> TrainResult:
    artifact.check_output_dir(cfg.output, cfg.force)  # before hours of training, not after
    taxonomy: Taxonomy | None = None
    if cfg.taxonomy or cfg.default_taxonomy:
        taxonomy = load_taxonomy(cfg.taxonomy)
    space = LabelSpace(taxonomy.ids) if taxonomy else None
    train_data = _load(cfg, cfg.data, space)
    if cfg.dev:
        dev_data = _load(cfg, cfg.dev, space)
        fit_data, dev_note = train_data, f"file {cfg.dev}"
    else:
        fit_idx, dev_idx = train_test_split(train_data.texts, train_data.label_sets, test_size=cfg.dev_size,
                                            seed=cfg.seed)
        fit_data, dev_data = train_data.subset(fit_idx), train_data.subset(dev_idx)
        dev_note = f"{len(dev_idx)} rows split from train (iterative stratification, seed {cfg.seed})"
    polarities = train_data.polarities
    space = (LabelSpace(space.themes, polarities) if space else
             LabelSpace.from_label_sets(train_data.label_sets + dev_data.label_sets, polarities))

    params = dict(cfg.params)
    params.setdefault("seed", cfg.seed)
    model = make_model(cfg.family, **params)
    started = time.time()
    model.fit(fit_data.texts, fit_data.label_sets, label_space=space,
              dev=None if cfg.refit else (dev_data.texts, dev_data.label_sets))
    if taxonomy is not None and taxonomy.audiences():
        model.audience_ = fit_audience(taxonomy.audiences(), fit_data, cfg.seed)
    dev_proba = model.predict_proba(dev_data.texts)
    if cfg.tune_thresholds:
        model.set_thresholds(tune_thresholds(dev_proba, space.encode(dev_data.label_sets)))
    dev_metrics = evaluate_label_sets(dev_data.label_sets, model.decode(dev_proba), themes=space.themes)
    history = getattr(model, "history_", None)
    if cfg.refit:
        fit_data = fit_data + dev_data
        audience = model.audience_
        model = refit(model, fit_data.texts, fit_data.label_sets)
        if audience is not None:
            model.audience_ = fit_audience(audience.theme_audiences, fit_data, cfg.seed)
    seconds = time.time() - started

    metrics = {
        "family": cfg.family,
        "config": asdict(cfg),
        "seed": cfg.seed,
        "data": {"train": {"path": cfg.data, "rows": len(fit_data), "hash": fit_data.data_hash(),
                           "refit": cfg.refit},
                 "dev": {"source": dev_note, "rows": len(dev_data), "hash": dev_data.data_hash()}},
        "thresholds": dict(zip(space.themes, map(float, model.thresholds_))),
        "training_seconds": round(seconds, 1),
        "history": history,
        "refit_history": getattr(model, "history_", None) if cfg.refit else None,
        "versions": package_versions(),
        "hardware": hardware(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dev": dev_metrics,  # with refit: the model before it saw dev, the only honest dev score
    }
    if model.audience_ is not None:
        metrics["audience"] = audience_summary(model, dev_data)
    if cfg.test:
        test_data = _load(cfg, cfg.test, space, test=True)
        metrics["data"]["test"] = {"path": cfg.test, "rows": len(test_data), "hash": test_data.data_hash()}
        metrics["test"] = evaluate_label_sets(test_data.label_sets, model.predict(test_data.texts), themes=space.themes)
    path = model.save(cfg.output, taxonomy=taxonomy, metrics=metrics, card=model_card(model, metrics), force=cfg.force)
    return TrainResult(model, metrics, path)


def refit(model: ThemeClassifier, texts: list[str], label_sets: list[list[str]]) -> ThemeClassifier:
    """A fresh model of ``model``'s configuration fitted on ``texts`` (no dev: every epoch runs),
    keeping ``model``'s thresholds, which were tuned on data the new one now trains on."""
    fresh = make_model(model.family, **model.get_params())
    fresh.fit(texts, label_sets, label_space=model.label_space_)
    fresh.set_thresholds(model.thresholds_)
    return fresh


def fit_audience(theme_audiences: dict[str, str], data: LabeledData, seed: int = 0) -> AudienceModel:
    """The audience detector, trained on each row's given audience, else the one its labels imply."""
    implied = infer_audiences(data.label_sets, theme_audiences)
    given = data.audiences or [None] * len(data)
    return AudienceModel.fit(theme_audiences, data.texts, [g or i for g, i in zip(given, implied)], seed=seed)


def audience_summary(model: ThemeClassifier, dev_data: LabeledData) -> dict:
    """How the detector was trained and, where dev says each row's audience, how often it is right."""
    audience = model.audience_
    out: dict = {"themes": audience.theme_audiences, "detector": audience.can_detect}
    if audience.can_detect:
        implied = infer_audiences(dev_data.label_sets, audience.theme_audiences)
        gold = [g or i for g, i in zip(dev_data.audiences or [None] * len(dev_data), implied)]
        known = [k for k, g in enumerate(gold) if g]
        if known:
            found = audience.resolve([dev_data.texts[k] for k in known], "auto")
            out["dev_accuracy"] = round(sum(f == gold[k] for f, k in zip(found, known)) / len(known), 4)
            out["dev_rows"] = len(known)
    return out


def load_train_config(path: str | Path) -> TrainConfig:
    """A JSON file holding TrainConfig fields: config as data, like spaCy's."""
    return TrainConfig(**json.loads(Path(path).read_text("utf-8")))
