"""spaCy ``textcat_multilabel`` (the factory's default ensemble model) on a blank English
pipeline, trained by spaCy's own training loop (``spacy.cli.train``) with dev for
model selection; one category per ``theme:polarity``; a category is predicted at >= 0.5."""

from __future__ import annotations

import json
from pathlib import Path

from peers.data import Dataset, label_vocabulary

THRESHOLD = 0.5


def _docbin(nlp, texts, label_sets, labels, path: Path) -> None:
    from spacy.tokens import DocBin

    db = DocBin()
    for text, gold in zip(texts, label_sets):
        doc = nlp.make_doc(text)
        doc.cats = {lab: float(lab in gold) for lab in labels}
        db.add(doc)
    db.to_disk(path)


def _config(max_epochs: int):
    """spaCy's quickstart training config with the component's default model."""
    import spacy
    from spacy.cli.init_config import init_config

    config = init_config(lang="en", pipeline=["textcat_multilabel"], optimize="efficiency", gpu=False)
    blank = spacy.blank("en")
    blank.add_pipe("textcat_multilabel")  # the factory default model: TextCatEnsemble (CNN tok2vec + BOW)
    config["components"]["textcat_multilabel"]["model"] = blank.config["components"]["textcat_multilabel"]["model"]
    config["training"]["max_epochs"] = max_epochs
    return config


def train(ds: Dataset, workdir: Path, quick: bool, max_epochs: int) -> dict:
    import spacy
    from spacy.cli.train import train as spacy_train

    labels = label_vocabulary(ds)
    nlp = spacy.blank("en")
    _docbin(nlp, ds.fit.texts, ds.fit.labels, labels, workdir / "train.spacy")
    _docbin(nlp, ds.dev.texts, ds.dev.labels, labels, workdir / "dev.spacy")
    config = _config(1 if quick else max_epochs)
    config.to_disk(workdir / "config.cfg")
    spacy_train(
        workdir / "config.cfg",
        workdir / "spacy",
        use_gpu=-1,
        overrides={"paths.train": str(workdir / "train.spacy"), "paths.dev": str(workdir / "dev.spacy")},
    )
    (workdir / "labels.json").write_text(json.dumps(labels))
    return {
        "architecture": str(config["components"]["textcat_multilabel"]["model"].get("@architectures")),
        "max_epochs": config["training"]["max_epochs"],
        "threshold": THRESHOLD,
    }


class Predictor:
    def __init__(self, workdir: Path):
        import spacy

        self.nlp = spacy.load(workdir / "spacy" / "model-best")

    def predict(self, texts: list[str]) -> list[list[str]]:
        return [
            sorted(c for c, p in doc.cats.items() if p >= THRESHOLD) for doc in self.nlp.pipe(texts, batch_size=256)
        ]


def load(workdir: Path, variant: str) -> Predictor:
    return Predictor(workdir)
