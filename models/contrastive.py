"""SetFit-style contrastive tuning of a sentence encoder, in plain PyTorch.

With a handful of examples per theme a linear head on frozen embeddings has too little to
go on; pulling texts that share a ``theme:polarity`` label together (and pushing the rest
apart) first makes the embedding space itself separate the labels. The loss is the one of
sentence-transformers' ``CosineSimilarityLoss``: MSE between cos(u, v) and 1 (same label)
or 0 (no shared label), on mean-pooled embeddings.
"""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np
import torch

from themesift.models.encoder import configure_threads, mean_pool

EMPTY = "<none>"  # label key shared by texts without any label: "no theme" is a class too


def label_keys(y: np.ndarray) -> list[frozenset[str]]:
    """One set of ``theme_index:class`` keys per row of an encoded label matrix (n, themes);
    a row with no label gets {EMPTY}. An unknown polarity (-1) is a key of its own."""
    out = []
    for row in np.asarray(y):
        keys = frozenset(f"{t}:{int(v)}" for t, v in enumerate(row) if v != 0)
        out.append(keys or frozenset([EMPTY]))
    return out


class PairSampler:
    """Balanced pairs: half positive (the two texts share a label), half negative (none shared).

    A positive pair is drawn label first, then two texts carrying it, so rare labels are
    not drowned by frequent ones (SetFit's balanced sampling, done lazily).
    """

    def __init__(self, keys: Sequence[frozenset[str]], seed: int):
        self.keys = list(keys)
        self.rng = random.Random(seed)
        by_label: dict[str, list[int]] = {}
        for i, ks in enumerate(self.keys):
            for k in ks:
                by_label.setdefault(k, []).append(i)
        self.pos_labels = sorted(k for k, rows in by_label.items() if len(rows) >= 2)
        self.by_label = by_label
        if not self.pos_labels:
            raise ValueError("contrastive tuning needs at least one label carried by two texts")
        self.fallback = _some_negative(self.keys)
        if self.fallback is None:
            raise ValueError("contrastive tuning needs two texts that share no label")

    def positive(self) -> tuple[int, int]:
        rows = self.by_label[self.rng.choice(self.pos_labels)]
        i, j = self.rng.sample(rows, 2)
        return i, j

    def negative(self) -> tuple[int, int]:
        n = len(self.keys)
        for _ in range(1000):
            i, j = self.rng.randrange(n), self.rng.randrange(n)
            if not (self.keys[i] & self.keys[j]):
                return i, j
        return self.fallback  # only when almost every pair shares a label

    def batch(self, size: int) -> tuple[list[int], list[int], list[float]]:
        left, right, target = [], [], []
        for k in range(size):
            i, j = self.positive() if k % 2 == 0 else self.negative()
            left.append(i)
            right.append(j)
            target.append(1.0 if k % 2 == 0 else 0.0)
        return left, right, target


def _some_negative(keys: Sequence[frozenset[str]]) -> tuple[int, int] | None:
    """Any pair of rows sharing no label key, or None."""
    for i, a in enumerate(keys):
        for j in range(i + 1, len(keys)):
            if not (a & keys[j]):
                return i, j
    return None


def contrastive_tune(
    tokenizer,
    encoder: torch.nn.Module,
    texts: Sequence[str],
    y: np.ndarray,
    *,
    steps: int,
    lr: float,
    max_length: int,
    seed: int,
    batch_size: int = 16,
    warmup: float = 0.1,
    progress: bool = True,
) -> list[float]:
    """Tune ``encoder`` in place for ``steps`` batches of ``batch_size`` pairs; returns the
    per-step losses. Seeded: the same inputs give the same weights."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    if steps <= 0:
        return []
    keys = label_keys(y)
    if len(keys) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(keys)} label rows")
    configure_threads()
    torch.manual_seed(seed)
    sampler = PairSampler(keys, seed)
    # one tokenisation up front: pairs re-use the same few texts many times
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    params = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup * steps), steps)
    losses: list[float] = []
    encoder.train()
    bar = tqdm(range(steps), desc="contrastive", unit="step", disable=not progress)
    try:
        for _ in bar:
            left, right, target = sampler.batch(batch_size)
            enc = tokenizer.pad({"input_ids": [ids[i] for i in left + right]}, return_tensors="pt")
            hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            emb = mean_pool(hidden, enc["attention_mask"])
            u, v = emb[:batch_size], emb[batch_size:]
            cos = torch.nn.functional.cosine_similarity(u, v, dim=-1)
            loss = torch.nn.functional.mse_loss(cos, torch.tensor(target, dtype=cos.dtype))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(float(loss.item()))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    finally:
        encoder.eval()
    return losses
