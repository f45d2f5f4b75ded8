"""SemEval-2014 Task 4 metrics on tiny cases computed by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from semeval_metrics import FOUR_WAY, detection_scores, polarity_accuracy, semeval14_scores  # noqa: E402

THEMES = ("ambience", "food", "price", "service")
GOLD = [["food:positive", "service:negative"], ["price:neutral"], ["ambience:conflict"]]


def _proba() -> np.ndarray:
    """(3 sentences, 4 themes, absent + 4 polarities); only gold pairs matter for polarity."""
    p = np.full((3, 4, 5), 0.2)
    p[0, 1] = [0.0, 0.3, 0.4, 0.1, 0.2]  # food, gold positive → argmax negative: wrong everywhere
    p[0, 3] = [
        0.9,
        0.01,
        0.03,
        0.01,
        0.05,
    ]  # service, gold negative, NOT detected → conflict (4-way), negative (3-way, binary)
    p[1, 2] = [0.0, 0.1, 0.1, 0.6, 0.2]  # price, gold neutral → neutral: right
    p[2, 0] = [0.0, 0.2, 0.2, 0.1, 0.5]  # ambience, gold conflict → conflict: right (4-way only)
    return p


def test_detection_is_micro_over_sentence_category_pairs():
    pred = [["food:negative"], ["price:neutral", "food:positive"], []]
    # gold pairs {(0,food),(0,service),(1,price),(2,ambience)}; predicted {(0,food),(1,price),(1,food)}
    # tp 2 (polarity ignored), fp 1, fn 2 → P 2/3, R 1/2, F1 4/7
    s = detection_scores(GOLD, pred)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 2)
    assert (s["precision"], s["recall"], s["f1"]) == (66.67, 50.0, 57.14)


def test_detection_counts_a_category_once_per_sentence_and_checks_lengths():
    assert detection_scores([["food:positive"]], [["food:negative"]])["f1"] == 100.0
    assert detection_scores([[]], [[]])["f1"] == 0.0  # nothing to find, nothing found: no credit
    with pytest.raises(ValueError):
        detection_scores(GOLD, GOLD[:2])


def test_polarity_accuracy_over_gold_pairs_four_three_and_two_way():
    p = _proba()
    four = polarity_accuracy(GOLD, p, THEMES, FOUR_WAY)
    assert (four["correct"], four["n"], four["accuracy"]) == (2, 4, 50.0)
    assert four["confusion"]["negative"]["conflict"] == 1  # the undetected category still gets a polarity
    three = polarity_accuracy(GOLD, p, THEMES, FOUR_WAY, ("positive", "negative", "neutral"))
    assert (three["correct"], three["n"], three["accuracy"]) == (2, 3, 66.67)  # conflict pair dropped
    two = polarity_accuracy(GOLD, p, THEMES, FOUR_WAY, ("positive", "negative"))
    assert (two["correct"], two["n"], two["accuracy"]) == (1, 2, 50.0)


def test_model_without_conflict_or_category_is_wrong_on_those_pairs():
    p = _proba()[:, :, :4]  # a 3-polarity model: columns absent, positive, negative, neutral
    acc = polarity_accuracy(GOLD, p, THEMES, ("positive", "negative", "neutral"))
    # food → negative (wrong), service → negative (right), price → neutral (right), ambience conflict: impossible
    assert (acc["correct"], acc["n"]) == (2, 4)
    missing = polarity_accuracy([["decor:positive"]], np.zeros((1, 4, 5)), THEMES, FOUR_WAY)
    assert (missing["correct"], missing["n"]) == (0, 1)


def test_semeval14_scores_bundles_all_figures():
    pred = [["food:negative"], ["price:neutral", "food:positive"], []]
    s = semeval14_scores(GOLD, pred, _proba(), THEMES, FOUR_WAY)
    assert s["detection"]["f1"] == 57.14
    assert [s[k]["accuracy"] for k in ("polarity_4way", "polarity_3way", "polarity_binary")] == [50.0, 66.67, 50.0]


def test_train_accepts_extra_polarities_such_as_conflict(tmp_path):
    """SemEval's 4th polarity goes through the normal training path when named, and only then."""
    import json

    from themesift.models.registry import load_artifact
    from themesift.training.data import load_labeled
    from themesift.training.labels_io import LabelDataError
    from themesift.training.train import TrainConfig, train

    rows = [
        ("The food was great", ["food:positive"]),
        ("Awful waiter", ["service:negative"]),
        ("Great food, rude staff", ["food:positive", "service:negative"]),
        ("Tasty but cold food", ["food:conflict"]),
        ("We had dinner there", ["food:neutral"]),
    ] * 6
    path = tmp_path / "train.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"{t} #{i}", "labels": labs}) + "\n" for i, (t, labs) in enumerate(rows)), "utf-8"
    )
    with pytest.raises(LabelDataError, match="conflict"):
        load_labeled(path)  # the default polarities catch a typo or an unexpected value
    polarities = list(FOUR_WAY)
    assert load_labeled(path, polarities=polarities).polarities == FOUR_WAY
    result = train(
        TrainConfig(
            data=str(path), output=str(tmp_path / "m"), family="tfidf", polarities=polarities, params={"min_df": 1}
        )
    )
    model = load_artifact(result.path)
    assert model.label_space_.polarities == FOUR_WAY
    assert model.predict_proba(["Tasty but cold food #99"]).shape == (1, 2, 5)
