"""Train → tune thresholds on dev → score → write the artifact: the one path every
family and the default model go through."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
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
from themesift.training.labels_io import LabelDataError, check_theme_case
from themesift.training.provenance import hardware, package_versions
from themesift.training.splits import train_test_split
from themesift.training.thresholds import tune_thresholds


@dataclass
class TrainConfig:
    """Everything that defines a training run; stored verbatim in the artifact's metrics."""

    data: str | None = None  # required, from the config file or --data
    output: str | None = None  # required, from the config file or --output
    family: str = "tfidf"
    params: dict = field(default_factory=dict)
    dev: str | None = None
    test: str | None = None
    dev_size: float = 0.1
    seed: int = 0
    text_column: str | None = None  # None: detected as classify does
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
    unlabeled: str | None = None  # --family zeroshot: comments to check the taxonomy's coverage on


@dataclass
class TrainResult:
    model: ThemeClassifier
    metrics: dict
    path: Path


class TrainConfigError(ValueError):
    """A train setting that is missing or malformed, named by its flag / config key: one line."""


@dataclass
class Fitted:
    """A model fitted and tuned by :func:`fit_labeled`, with what the metrics need to say how."""

    model: ThemeClassifier
    fit_data: LabeledData
    dev_data: LabeledData
    dev_note: str
    dev_metrics: dict
    history: list | None
    seconds: float


def _load(cfg: TrainConfig, path: str, space: LabelSpace | None, *, test: bool = False) -> LabeledData:
    return load_labeled(
        path,
        text_column=cfg.text_column,
        labels_column=cfg.labels_column,
        label_columns=cfg.label_columns,
        label_space=space,
        polarities=cfg.polarities,
        audience_column=cfg.audience_column,
        exclude=() if test else cfg.exclude,
    )


def check_config(cfg: TrainConfig) -> None:
    """Refuse a run that cannot succeed before any data is read or any model trained."""
    for key in ("data", "output"):
        if not getattr(cfg, key):
            raise TrainConfigError(f"--{key} is required (or {key!r} in --config)")
    if not cfg.dev and not 0 < cfg.dev_size < 1:
        raise TrainConfigError(f"--dev-size must be between 0 and 1 (a share of --data), got {cfg.dev_size}")
    if not isinstance(cfg.params, dict):
        raise TrainConfigError(f"params must be a mapping of family parameters, got {cfg.params!r}")


def fit_labeled(
    data: LabeledData,
    *,
    family: str = "tfidf",
    params: dict | None = None,
    dev: LabeledData | None = None,
    taxonomy: Taxonomy | None = None,
    seed: int = 0,
    dev_size: float = 0.1,
    tune: bool = True,
    refit: bool = False,
    dev_note: str | None = None,
) -> Fitted:
    """Fit ``family`` on ``data``, tune per-theme thresholds on ``dev`` (else a seeded, stratified
    ``dev_size`` slice of ``data``), score dev: the one training path of the CLI and the Python API."""
    if not any(data.label_sets):
        raise LabelDataError(f"{data.source}: no row has a label; a model needs labeled examples")
    seen: dict[str, str] = {}  # one spelling per theme across train and dev, the row named where not
    check_theme_case(data.label_sets, source=data.source, known=seen)
    if dev is not None:
        check_theme_case(dev.label_sets, source=dev.source, known=seen)
    if dev is not None:
        fit_data, dev_data, dev_note = data, dev, dev_note or f"file {dev.source}"
    else:
        if not 0 < dev_size < 1:
            raise TrainConfigError(f"dev_size (--dev-size) must be between 0 and 1, got {dev_size}")
        try:
            fit_idx, dev_idx = train_test_split(data.texts, data.label_sets, test_size=dev_size, seed=seed)
        except ValueError as exc:  # too few distinct texts to hold some out
            raise LabelDataError(
                f"{data.source}: cannot split a dev set from {len(data)} rows ({exc}); give a dev set (--dev)"
            ) from None
        fit_data, dev_data = data.subset(fit_idx), data.subset(dev_idx)
        dev_note = f"{len(dev_idx)} rows split from train (iterative stratification, seed {seed})"
    space = (
        LabelSpace(taxonomy.ids, data.polarities)
        if taxonomy
        else LabelSpace.from_label_sets(data.label_sets + dev_data.label_sets, data.polarities)
    )
    params = {"seed": seed, **(params or {})}
    model = make_model(family, **params)
    started = time.time()
    model.fit(
        fit_data.texts,
        fit_data.label_sets,
        label_space=space,
        dev=None if refit else (dev_data.texts, dev_data.label_sets),
    )
    if taxonomy is not None and taxonomy.audiences():
        model.audience_ = fit_audience(taxonomy.audiences(), fit_data, seed)
    dev_proba = model.predict_proba(dev_data.texts)
    if tune:
        model.set_thresholds(tune_thresholds(dev_proba, space.encode(dev_data.label_sets)))
    dev_metrics = evaluate_label_sets(dev_data.label_sets, model.decode(dev_proba), themes=space.themes)
    history = getattr(model, "history_", None)
    if refit:
        fit_data = fit_data + dev_data
        audience = model.audience_
        model = refit_model(model, fit_data.texts, fit_data.label_sets)
        if audience is not None:
            model.audience_ = fit_audience(audience.theme_audiences, fit_data, seed)
    return Fitted(model, fit_data, dev_data, dev_note, dev_metrics, history, time.time() - started)


def train(cfg: TrainConfig) -> TrainResult:
    """``themesift train``: read the files ``cfg`` names, :func:`fit_labeled`, score, write the artifact
    (``family="zeroshot"``: built from the taxonomy alone, training.zeroshot)."""
    if cfg.family == "zeroshot":
        from themesift.training.zeroshot import train_zeroshot

        return train_zeroshot(cfg)
    check_config(cfg)
    artifact.check_output_dir(cfg.output, cfg.force)  # before hours of training, not after
    taxonomy: Taxonomy | None = None
    if cfg.taxonomy or cfg.default_taxonomy:
        taxonomy = load_taxonomy(cfg.taxonomy)
    space = LabelSpace(taxonomy.ids) if taxonomy else None
    train_data = _load(cfg, cfg.data, space)
    dev_data = _load(cfg, cfg.dev, space) if cfg.dev else None
    fitted = fit_labeled(
        train_data,
        family=cfg.family,
        params=cfg.params,
        dev=dev_data,
        taxonomy=taxonomy,
        seed=cfg.seed,
        dev_size=cfg.dev_size,
        tune=cfg.tune_thresholds,
        refit=cfg.refit,
    )
    model, fit_data, dev_data = fitted.model, fitted.fit_data, fitted.dev_data
    space = model.label_space_

    metrics = {
        "family": cfg.family,
        "config": asdict(cfg),
        "seed": cfg.seed,
        "data": {
            "train": {"path": cfg.data, "rows": len(fit_data), "hash": fit_data.data_hash(), "refit": cfg.refit},
            "dev": {"source": fitted.dev_note, "rows": len(dev_data), "hash": dev_data.data_hash()},
        },
        "thresholds": dict(zip(space.themes, map(float, model.thresholds_))),
        "training_seconds": round(fitted.seconds, 1),
        "history": fitted.history,
        "refit_history": getattr(model, "history_", None) if cfg.refit else None,
        "versions": package_versions(),
        "hardware": hardware(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dev": fitted.dev_metrics,  # with refit: the model before it saw dev, the only honest dev score
    }
    if model.audience_ is not None:
        metrics["audience"] = audience_summary(model, dev_data)
    if cfg.test:
        test_data = _load(cfg, cfg.test, space, test=True)
        metrics["data"]["test"] = {"path": cfg.test, "rows": len(test_data), "hash": test_data.data_hash()}
        metrics["test"] = evaluate_label_sets(test_data.label_sets, model.predict(test_data.texts), themes=space.themes)
    path = model.save(cfg.output, taxonomy=taxonomy, metrics=metrics, card=model_card(model, metrics), force=cfg.force)
    return TrainResult(model, metrics, path)


def refit_model(model: ThemeClassifier, texts: list[str], label_sets: list[list[str]]) -> ThemeClassifier:
    """A fresh model of ``model``'s configuration fitted on ``texts`` (no dev: every epoch runs),
    keeping ``model``'s thresholds, which were tuned on data the new one now trains on."""
    fresh = make_model(model.family, **model.get_params())
    fresh.fit(texts, label_sets, label_space=model.label_space_)
    fresh.set_thresholds(model.thresholds_)
    return fresh


refit = refit_model  # the name benchmarks/public_benchmarks.py imports


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
    """A JSON file holding TrainConfig fields: config as data, like spaCy's. Every problem is one
    line naming the file and the key."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise TrainConfigError(f"--config {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except UnicodeDecodeError as exc:
        raise TrainConfigError(f"--config {path}: not UTF-8 text (byte {exc.start})") from None
    if not isinstance(data, dict):
        raise TrainConfigError(f"--config {path}: expected a JSON object of settings, got {type(data).__name__}")
    known = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise TrainConfigError(f"--config {path}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    return TrainConfig(**data)
