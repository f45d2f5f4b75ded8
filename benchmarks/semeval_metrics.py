"""SemEval-2014 Task 4 scoring, restaurant aspect categories, as the task defines it.

* Subtask 3 (aspect category detection): micro precision/recall/F1 over (sentence,
  category) pairs; polarity is ignored.
* Subtask 4 (aspect category polarity): the gold categories are given; for each gold
  (sentence, category) pair predict its polarity. Accuracy over all gold pairs, 4-way
  (``conflict`` included). The 3-way (gold ``conflict`` pairs dropped) and binary
  (positive/negative pairs only) variants later papers quote restrict the prediction to
  those classes too.

Labels are the project's ``category:polarity`` strings; a model's polarity for a gold pair
is its per-theme argmax over polarities, whether or not it detected the category.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

FOUR_WAY = ("positive", "negative", "neutral", "conflict")
THREE_WAY = ("positive", "negative", "neutral")
BINARY = ("positive", "negative")


def _pairs(label_sets: Sequence[Sequence[str]]) -> set[tuple[int, str]]:
    return {(row, label.split(":")[0]) for row, labels in enumerate(label_sets) for label in labels}


def detection_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Subtask 3: micro P/R/F1 over (sentence, category) pairs, in percent."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    g, p = _pairs(gold), _pairs(pred)
    tp, fp, fn = len(g & p), len(p - g), len(g - p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(100 * precision, 2),
        "recall": round(100 * recall, 2),
        "f1": round(100 * f1, 2),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def gold_polarity_pairs(gold: Sequence[Sequence[str]]) -> list[tuple[int, str, str]]:
    """(row, category, polarity) for every gold label, in order."""
    out = []
    for row, labels in enumerate(gold):
        for label in labels:
            category, _, polarity = label.partition(":")
            out.append((row, category, polarity))
    return out


def polarity_accuracy(
    gold: Sequence[Sequence[str]],
    proba: np.ndarray,
    themes: Sequence[str],
    polarities: Sequence[str],
    classes: Sequence[str] = FOUR_WAY,
) -> dict:
    """Subtask 4: accuracy (percent) over the gold pairs whose polarity is in ``classes``,
    predicting the argmax of ``proba[row, theme, 1 + polarity]`` over ``classes`` only.

    ``proba`` is a model's (n, themes, 1 + polarities) output; a class the model does not
    know (e.g. ``conflict`` for a 3-polarity model) can never be predicted.
    """
    if len(proba) != len(gold):
        raise ValueError(f"{len(gold)} gold label sets but {len(proba)} rows of probabilities")
    theme_index = {t: i for i, t in enumerate(themes)}
    known = [c for c in classes if c in polarities]
    columns = np.array([1 + list(polarities).index(c) for c in known])
    confusion = {g: {p: 0 for p in classes} for g in classes}
    correct = total = 0
    for row, category, polarity in gold_polarity_pairs(gold):
        if polarity not in classes:
            continue
        total += 1
        if category not in theme_index or not len(columns):
            continue  # a category the model never saw: counted wrong, as the task would
        predicted = known[int(np.argmax(proba[row, theme_index[category], columns]))]
        confusion[polarity][predicted] += 1
        correct += predicted == polarity
    return {
        "accuracy": round(100 * correct / total, 2) if total else 0.0,
        "correct": correct,
        "n": total,
        "classes": list(classes),
        "confusion": confusion,
    }


def semeval14_scores(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    proba: np.ndarray,
    themes: Sequence[str],
    polarities: Sequence[str],
) -> dict:
    """Both official figures plus the 3-way and binary accuracy variants."""
    return {
        "detection": detection_scores(gold, pred),
        "polarity_4way": polarity_accuracy(gold, proba, themes, polarities, FOUR_WAY),
        "polarity_3way": polarity_accuracy(gold, proba, themes, polarities, THREE_WAY),
        "polarity_binary": polarity_accuracy(gold, proba, themes, polarities, BINARY),
    }
