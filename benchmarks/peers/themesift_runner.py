"""themesift families the way ``themesift.training.train.train`` runs them: fit on fit
(dev for early stopping), tune per-theme thresholds on dev, save the artifact."""

from __future__ import annotations

from pathlib import Path

from peers.data import Dataset

QUICK_PARAMS = {"finetune": {"epochs": 1, "progress": False}, "embed": {}, "tfidf": {}}


def train(family: str, ds: Dataset, workdir: Path, quick: bool) -> dict:
    from themesift.models.labels import LabelSpace
    from themesift.models.registry import make_model
    from themesift.training.thresholds import tune_thresholds

    params = dict(QUICK_PARAMS[family]) if quick else ({"progress": False} if family == "finetune" else {})
    params["seed"] = 0
    space = LabelSpace(ds.themes, ds.polarities)
    model = make_model(family, **params)
    model.fit(ds.fit.texts, ds.fit.labels, label_space=space, dev=(ds.dev.texts, ds.dev.labels))
    model.set_thresholds(tune_thresholds(model.predict_proba(ds.dev.texts), space.encode(ds.dev.labels)))
    model.save(workdir / "model")
    return {"params": model.get_params(), "history": getattr(model, "history_", None)}


def prepare(workdir: Path) -> None:
    """Build the ONNX exports now (untimed), so inference phases measure steady state."""
    from themesift.models.onnx_backend import onnx_available

    model = _load(_artifact(workdir))
    if onnx_available() and model.family != "tfidf":
        for backend in ("onnx", "onnx-int8"):
            set_backend(model, backend)
            model.predict_proba(["warm-up"])


def train_ensemble(ds: Dataset, workdir: Path) -> dict:
    """The default model's recipe: this run's finetune and tfidf artifacts averaged,
    thresholds tuned on dev (as ``themesift.training.ensemble.build_ensemble`` does)."""
    import json

    from themesift.models.ensemble import EnsembleClassifier
    from themesift.training.thresholds import tune_thresholds

    members = [_artifact(workdir.parent / family) for family in ("finetune", "tfidf")]
    model = EnsembleClassifier.from_members([_load(path) for path in members])
    model.set_thresholds(tune_thresholds(model.predict_proba(ds.dev.texts), model.label_space_.encode(ds.dev.labels)))
    model.save(workdir / "model")
    member_seconds = [
        json.loads((workdir.parent / f / "train-default.json").read_text()).get("train_seconds") or 0
        for f in ("finetune", "tfidf")
    ]
    return {"members": [str(p) for p in members], "member_train_seconds": member_seconds}


def reuse(path: Path, workdir: Path, member: int | None = None) -> dict:
    """Point the inference phase at an existing artifact (e.g. the shipped default model,
    or its ``member``-th member); its training time is the one its metrics recorded."""
    import json

    path = Path(path)
    metrics = json.loads((path / "metrics.json").read_text()) if (path / "metrics.json").is_file() else {}
    seconds = metrics.get("training_seconds")
    if member is not None:
        seconds = (metrics.get("members") or [{}] * (member + 1))[member].get("training_seconds")
        path = path / f"member_{member}"
    (workdir / "model.link").write_text(str(path.resolve()))
    return {"reused": str(path), "training_seconds": seconds}


def _artifact(workdir: Path) -> Path:
    link = workdir / "model.link"
    return Path(link.read_text().strip()) if link.is_file() else workdir / "model"


def _load(path: Path):
    from themesift.models.registry import load_artifact

    return load_artifact(path)


def set_backend(model, backend: str | None) -> None:
    """Set the inference backend on a model, or on every member of an ensemble."""
    if "backend" in model.get_params():
        model.set_params(backend=backend)
    for member in getattr(model, "members_", []):
        set_backend(member, backend)


class Predictor:
    def __init__(self, workdir: Path, backend: str | None):
        from themesift.serve.predict import load_model

        self.model = load_model(_artifact(workdir))
        if backend:
            set_backend(self.model, backend)

    def predict(self, texts: list[str]) -> list[list[str]]:
        """The public inference path: checks, normalisation, decoding to result dicts."""
        from themesift.serve.predict import predict

        return [r["labels"] for r in predict(texts, self.model)]


def load(workdir: Path, variant: str) -> Predictor:
    return Predictor(workdir, None if variant == "default" else variant)
