"""Sentence splitting: gold-set quality, offset invariants on real comments, edge cases."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from themesift.nlp.sentences import Sentence, split_sentences, split_sentences_batch

FIXTURES = Path(__file__).parent / "fixtures"
POOL = Path("/work/shared/data/employee-reviews/pool.jsonl")


def _gold() -> list[dict]:
    with open(FIXTURES / "nlp_sentences_gold.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _assert_valid(text: str, sentences: list[Sentence]) -> None:
    prev_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= prev_end, "sentences must be ordered and non-overlapping"
        prev_end = s.end


def test_gold_set_quality() -> None:
    gold = _gold()
    assert len(gold) >= 40
    results = split_sentences_batch([g["text"] for g in gold])
    tp = n_pred = n_gold = 0
    failures = []
    for g, got in zip(gold, results):
        _assert_valid(g["text"], got)
        texts = [s.text for s in got]
        tp += len(set(texts) & set(g["sentences"]))
        n_pred += len(texts)
        n_gold += len(g["sentences"])
        if texts != g["sentences"]:
            failures.append((g["text"], texts))
    precision, recall = tp / n_pred, tp / n_gold
    print(f"sentence gold: P={precision:.3f} R={recall:.3f} failures={len(failures)}")
    assert precision >= 0.95 and recall >= 0.95, failures


def test_offsets_hold_on_real_comments() -> None:
    if not POOL.exists():
        pytest.skip("shared pool.jsonl not available")
    texts = []
    with open(POOL, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 97 == 0:
                texts.append(json.loads(line)["text"])
            if len(texts) >= 400:
                break
    results = split_sentences_batch(texts)
    assert len(results) == len(texts)
    for text, sents in zip(texts, results):
        assert sents, f"no sentence for {text!r}"
        _assert_valid(text, sents)


def test_offsets_refer_to_unnormalised_text() -> None:
    text = "  Great pay &amp; perks.\r\n\r\n\tBad   hours.  "
    got = split_sentences(text)
    assert [s.text for s in got] == ["Great pay &amp; perks.", "Bad   hours."]
    _assert_valid(text, got)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- point one\n- point two", ["point one", "point two"]),
        ("1. Long hours 2. Low pay 3. No growth", ["Long hours", "Low pay", "No growth"]),
        ("* Good team * Nice office * Free food", ["Good team", "Nice office", "Free food"]),
        ("- Good pay. - Bad hours", ["Good pay.", "Bad hours"]),
        ("I'd give it a 5. Great place.", ["I'd give it a 5.", "Great place."]),
        ("Flexibility - excellent for students.", ["Flexibility - excellent for students."]),
        ("Great team!!! 😊 Would recommend.", ["Great team!!! 😊", "Would recommend."]),
        ("Perks e.g. free lunch. Mr. Lee is kind.", ["Perks e.g. free lunch.", "Mr. Lee is kind."]),
        ("ok", ["ok"]),
    ],
)
def test_examples(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "- \n* ", None])
def test_empty_input_gives_no_sentences(text) -> None:
    assert split_sentences(text) == []


def test_batch_matches_single_calls_and_keeps_alignment() -> None:
    texts = ["One. Two.", "", "Three!\nFour?", "   ", "Five"]
    batch = split_sentences_batch(texts)
    assert batch == [split_sentences(t) for t in texts]
    assert [len(b) for b in batch] == [2, 0, 2, 0, 1]


def test_sentence_is_frozen() -> None:
    s = split_sentences("Hello there.")[0]
    assert s == Sentence(0, 12, "Hello there.")
    with pytest.raises(AttributeError):
        s.start = 3  # type: ignore[misc]


def test_offsets_hold_on_random_messy_text() -> None:
    """Random mixes of bullets, brackets, quotes, emoji and newlines never break the offsets."""
    rng = random.Random(0)
    pieces = [
        "Good",
        "pay",
        ".",
        "!!!",
        "?",
        "...",
        "…",
        "(",
        ")",
        '"',
        "'",
        "“",
        "”",
        "- ",
        "* ",
        "• ",
        "1.",
        "2.",
        "3)",
        "\n",
        "\r\n",
        "  ",
        "😊",
        "👍🏽",
        ":)",
        "e.g.",
        "Mr.",
        "www.x.com",
        "555-123-4567",
        "\t",
        "—",
        "10.",
        "ok",
        " ",
    ]
    texts = [
        "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 30))) for _ in range(2000)
    ]
    for text, sents in zip(texts, split_sentences_batch(texts)):
        _assert_valid(text, sents)
