"""SetFit-style contrastive tuning for the ``embed`` family, on real gold rows and the real encoder."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from themesift.models.contrastive import EMPTY, PairSampler, contrastive_tune, label_keys
from themesift.models.labels import LabelSpace

THEMES = ("growth_development", "pay_benefits", "teamwork_culture", "work_life_balance")


def few_shot(rows: list[dict], per_theme: int, seed: int = 0, max_chars: int = 300):
    """``per_theme`` short train rows per theme, each carrying exactly one of THEMES (labels cut to
    THEMES), plus the remaining rows that carry any of THEMES as a held-out slice."""
    restrict = lambda r: [lab for lab in r["labels"] if lab.split(":")[0] in THEMES]  # noqa: E731
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    chosen, count = [], dict.fromkeys(THEMES, 0)
    for i in order:
        labels = restrict(rows[i])
        if len(labels) == 1 and count[labels[0].split(":")[0]] < per_theme and len(rows[i]["text"]) <= max_chars:
            count[labels[0].split(":")[0]] += 1
            chosen.append(i)
    taken = set(chosen)
    held = [i for i in order if i not in taken and restrict(rows[i])]
    pick = lambda idx: ([rows[i]["text"] for i in idx], [restrict(rows[i]) for i in idx])  # noqa: E731
    return pick(chosen), pick(held)


def test_pairs_share_a_label_or_share_none_and_are_seeded():
    space = LabelSpace(("pay", "team"))
    y = space.encode([["pay:positive"], ["pay:positive", "team:negative"], ["team:negative"], [], [], ["pay:negative"]])
    keys = label_keys(y)
    assert keys[3] == keys[4] == frozenset([EMPTY]) and keys[0] != keys[5]  # polarity is part of the label
    left, right, target = PairSampler(keys, seed=3).batch(200)
    for i, j, t in zip(left, right, target):
        assert i != j or t == 0.0
        assert bool(keys[i] & keys[j]) == (t == 1.0)
    assert target.count(1.0) == target.count(0.0) == 100
    assert PairSampler(keys, seed=3).batch(50) == PairSampler(keys, seed=3).batch(50)
    assert PairSampler(keys, seed=3).batch(50) != PairSampler(keys, seed=4).batch(50)
    with pytest.raises(ValueError, match="share no label"):
        PairSampler(label_keys(space.encode([["pay:positive"], ["pay:positive"]])), seed=0)


@pytest.mark.slow
def test_contrastive_tune_is_seeded_and_moves_the_encoder(gold_train):
    from themesift.models.encoder import load_tokenizer_and_encoder

    (texts, labels), _ = few_shot(gold_train, per_theme=3)
    y = LabelSpace(THEMES).encode(labels)
    states, losses = [], []
    for _ in range(2):
        tokenizer, encoder = load_tokenizer_and_encoder("all-MiniLM-L6-v2")
        before = {k: v.clone() for k, v in encoder.state_dict().items()}
        losses.append(
            contrastive_tune(
                tokenizer, encoder, texts, y, steps=2, lr=2e-5, max_length=48, seed=7, batch_size=4, progress=False
            )
        )
        states.append(encoder.state_dict())
        assert not encoder.training  # left in eval mode for encoding
    assert len(losses[0]) == 2 and all(np.isfinite(losses[0])) and losses[0] == losses[1]
    key = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(before[key], states[0][key])
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.slow
def test_embed_with_contrastive_steps_saves_and_reloads_identically(gold_train, tmp_path):
    from themesift.models.registry import load_artifact, make_model

    (texts, labels), (held_texts, _) = few_shot(gold_train, per_theme=8)
    model = make_model("embed", contrastive_steps=4, max_length=64, seed=0)
    model.fit(texts, labels, label_space=LabelSpace(THEMES))
    path = model.save(tmp_path / "fewshot")
    assert (path / "encoder.safetensors").is_file()
    loaded = load_artifact(path)
    probe = held_texts[:24]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), atol=1e-5)
    assert loaded.predict(probe) == model.predict(probe)
    # without contrastive steps nothing but the heads is stored: the tuned encoder is what differs
    plain = make_model("embed", max_length=64, seed=0).fit(texts, labels, label_space=LabelSpace(THEMES))
    assert not (plain.save(tmp_path / "plain") / "encoder.safetensors").exists()
    assert not np.allclose(plain.embed(probe[:4]), loaded.embed(probe[:4]), atol=1e-4)
