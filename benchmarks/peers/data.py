"""The datasets of the peer comparison, split the same way for every method.

ex-cx-gold: train → fit, dev → dev, test → test. semeval14-restaurants: a seeded 10% of
train (``themesift.training.splits.train_test_split``, seed 0) → dev, the rest → fit,
test → test. ``quick`` takes small subsets and scores on held-out *train/dev* rows, so a
smoke run never reads a test file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATASETS = ("ex-cx-gold", "semeval14-restaurants")
POLARITIES = {
    "ex-cx-gold": ("positive", "negative", "neutral"),
    "semeval14-restaurants": ("positive", "negative", "neutral", "conflict"),
}
QUICK_FIT, QUICK_EVAL = 500, 150


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, idx) -> Split:
        return Split([self.texts[i] for i in idx], [self.labels[i] for i in idx])


@dataclass
class Dataset:
    name: str
    fit: Split
    dev: Split
    eval_name: str  # "test", or what a quick run scores on instead
    eval_path: Path | None
    eval_rows: Split | None
    themes: tuple[str, ...]
    polarities: tuple[str, ...]

    def evaluation(self) -> Split:
        """The scoring split, read only when asked for (after a model is final)."""
        return self.eval_rows if self.eval_rows is not None else read_split(self.eval_path)


def read_split(path: Path, limit: int | None = None) -> Split:
    from themesift.nlp.normalize import normalize_text

    out = Split()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.texts.append(normalize_text(row["text"]))
            out.labels.append(list(row["labels"]))
            if limit and len(out) >= limit:
                break
    return out


def load_dataset(name: str, quick: bool = False) -> Dataset:
    from themesift.training.splits import train_test_split

    folder = DATA / name
    if not (folder / "train.jsonl").is_file():
        raise FileNotFoundError(f"{folder}/train.jsonl not found (the shared data sits beside the repo)")
    train = read_split(folder / "train.jsonl")
    if quick:  # small fit/dev split of train; score on rows the model never saw, never on test
        head = train.take(range(QUICK_FIT))
        fit_idx, dev_idx = train_test_split(head.texts, head.labels, test_size=0.2, seed=0)
        fit, dev = head.take(fit_idx), head.take(dev_idx)
        if (folder / "dev.jsonl").is_file():
            evaluation, eval_name = read_split(folder / "dev.jsonl", QUICK_EVAL), "dev (quick)"
        else:
            evaluation, eval_name = train.take(range(QUICK_FIT, QUICK_FIT + QUICK_EVAL)), "train rows (quick)"
        eval_path = None
    elif (folder / "dev.jsonl").is_file():
        fit, dev = train, read_split(folder / "dev.jsonl")
        evaluation, eval_name, eval_path = None, "test", folder / "test.jsonl"
    else:
        fit_idx, dev_idx = train_test_split(train.texts, train.labels, test_size=0.1, seed=0)
        fit, dev = train.take(fit_idx), train.take(dev_idx)
        evaluation, eval_name, eval_path = None, "test", folder / "test.jsonl"
    if name == "ex-cx-gold":
        from themesift.models.taxonomy import load_taxonomy

        themes = tuple(load_taxonomy(None).ids)
    else:
        themes = tuple(sorted({lab.split(":")[0] for labels in fit.labels + dev.labels for lab in labels}))
    return Dataset(
        name, fit, dev, eval_name, eval_path, evaluation, themes, POLARITIES.get(name, POLARITIES["ex-cx-gold"])
    )


def label_vocabulary(ds: Dataset) -> list[str]:
    """Every theme:polarity a flat multi-label peer can learn: those seen in fit."""
    return sorted({lab for labels in ds.fit.labels for lab in labels})
