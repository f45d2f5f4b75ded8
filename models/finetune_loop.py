"""The training loop behind the ``finetune`` family: weighted per-theme cross-entropy,
length-grouped batches, warmup + linear decay, gradient accumulation, early stopping on dev."""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from themesift.models.encoder import configure_threads
from themesift.models.labels import UNKNOWN_POLARITY


@dataclass
class TrainSettings:
    epochs: int = 4
    lr: float = 1e-3
    head_lr: float = 1e-3
    batch_size: int = 32
    grad_accum: int = 1
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 256
    class_weighting: bool = True
    patience: int = 1  # tolerated epochs without a dev gain; training stops at the next one
    seed: int = 0
    progress: bool = True
    max_class_weight: float = 10.0


def class_weights(y: np.ndarray, n_classes: int, cap: float) -> torch.Tensor:
    """Up-weight a theme's present classes by sqrt(absent/present), capped: rare themes
    get a louder voice without drowning the absent class."""
    present = (y != 0).sum(axis=0).astype(float)
    absent = len(y) - present
    ratio = np.clip(np.sqrt(absent / np.maximum(present, 1.0)), 1.0, cap)
    w = np.ones((y.shape[1], n_classes), dtype=np.float32)
    w[:, 1:] = ratio[:, None]
    return torch.tensor(w)


def theme_loss(logits: torch.Tensor, y: torch.Tensor, weights: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Mean weighted NLL over themes; an unknown polarity only asks for "present"."""
    logp = torch.log_softmax(logits.view(len(y), -1, n_classes), dim=-1)
    known = y != UNKNOWN_POLARITY
    target = torch.where(known, y, torch.ones_like(y))
    nll_known = -logp.gather(2, target.unsqueeze(-1)).squeeze(-1)
    nll_present = -torch.logsumexp(logp[:, :, 1:], dim=-1)
    nll = torch.where(known, nll_known, nll_present)
    w = weights.gather(1, target.T).T  # (batch, themes)
    return (nll * w).sum() / w.sum()


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length texts: less padding, still random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _micro_f1(proba: np.ndarray, y: np.ndarray) -> float:
    pred = np.where(proba[:, :, 0] < 0.5, proba[:, :, 1:].argmax(-1) + 1, 0)
    tp = ((pred > 0) & (pred == y)).sum()
    fp = ((pred > 0) & (pred != y)).sum()
    fn = ((y != 0) & (pred != y)).sum()
    return float(2 * tp / max(2 * tp + fp + fn, 1))


def train_network(
    network: torch.nn.Module,
    tokenizer,
    texts: list[str],
    y: np.ndarray,
    n_classes: int,
    s: TrainSettings,
    *,
    dev: tuple[list[str], np.ndarray] | None,
    predict_proba: Callable[[list[str]], np.ndarray],
) -> list[dict]:
    """Train in place; returns one history row per epoch. Keeps the best dev epoch's weights."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    configure_threads()
    rng = random.Random(s.seed)
    torch.manual_seed(s.seed)
    np.random.seed(s.seed)
    ids = tokenizer(texts, truncation=True, max_length=s.max_length)["input_ids"]
    lengths = [len(x) for x in ids]
    weights = (
        class_weights(y, n_classes, s.max_class_weight) if s.class_weighting else torch.ones(y.shape[1], n_classes)
    )
    y_t = torch.tensor(y)

    head = [p for n, p in network.named_parameters() if n.startswith("head.") and p.requires_grad]
    body = [p for n, p in network.named_parameters() if not n.startswith("head.") and p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": s.lr}, {"params": head, "lr": s.head_lr}], weight_decay=s.weight_decay
    )
    steps_per_epoch = -(-len(texts) // (s.batch_size * s.grad_accum))
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(s.warmup * steps_per_epoch * s.epochs), steps_per_epoch * s.epochs
    )
    history, best, best_state, bad_epochs = [], -1.0, None, 0
    for epoch in range(1, s.epochs + 1):
        network.train()
        started, total, seen = time.time(), 0.0, 0
        batches = _batches(lengths, s.batch_size, rng)
        bar = tqdm(batches, desc=f"epoch {epoch}/{s.epochs}", unit="batch", disable=not s.progress)
        for step, idx in enumerate(bar, 1):
            enc = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
            logits = network(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            loss = theme_loss(logits, y_t[idx], weights, n_classes)
            (loss / s.grad_accum).backward()
            if step % s.grad_accum == 0 or step == len(batches):
                torch.nn.utils.clip_grad_norm_(body + head, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            total, seen = total + loss.item() * len(idx), seen + len(idx)
            bar.set_postfix(loss=f"{total / seen:.4f}")
        row = {"epoch": epoch, "train_loss": total / seen, "seconds": round(time.time() - started, 1)}
        if dev is not None:
            row["dev_micro_f1"] = _micro_f1(predict_proba(dev[0]), dev[1])
            if row["dev_micro_f1"] > best:
                best, bad_epochs = row["dev_micro_f1"], 0
                best_state = copy.deepcopy({k: v for k, v in network.state_dict().items()})
            else:
                bad_epochs += 1
        history.append(row)
        if s.progress:
            tqdm.write(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if dev is not None and bad_epochs > s.patience:
            break
    if best_state is not None:
        network.load_state_dict(best_state)
    return history
