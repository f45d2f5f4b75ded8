"""ONNX Runtime inference for the transformer families: the same numbers as torch, less time.

Profiling showed ~97 % of ``predict`` in the encoder's arithmetic (two thirds dense GEMMs),
so the lever is cheaper encoder math: ONNX Runtime's optimised graph gives torch's numbers
somewhat faster on CPU, dynamic int8 weights faster still (benchmarks/PROFILE.md has the
figures). A network is exported once per distinct set of weights (LoRA adapters merged
first) and cached on disk as a plain ONNX protobuf, never a pickle, so a server or a
Spark executor pays the export only on first use. Training always runs in torch; only
inference switches.

Choose with a model's ``backend`` parameter or the ``THEMESIFT_BACKEND`` variable:
``"torch"``, ``"onnx"`` (fp32) or ``"onnx-int8"``.
"""
from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from themesift.models.encoder import length_sorted_batches, mean_pool

BACKENDS = ("torch", "onnx", "onnx-int8")
# fp32 ONNX gives torch's probabilities (within 1e-4); int8 on the fused graph moves the default
# model's dev theme:polarity F1 by -0.39 points, inside the 0.5-point budget for a default, for
# 1.2x fp32's speed (benchmarks/PROFILE.md). THEMESIFT_BACKEND=torch restores the plain path.
DEFAULT_BACKEND = "onnx-int8"
BACKEND_ENV = "THEMESIFT_BACKEND"
CACHE_ENV = "THEMESIFT_CACHE_DIR"
OPSET = 17
MAX_BATCH_TOKENS = 2048  # padded tokens per batch: long texts go in smaller batches, bounding activation memory
INPUTS = ("input_ids", "attention_mask")
_EXPORT_VERSION = "4"  # bump when the export or quantization recipe changes: old cached files are then ignored

log = logging.getLogger(__name__)


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401  (torch.onnx.export and the quantizer need it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str | None = None) -> str:
    """An explicit parameter wins, then ``THEMESIFT_BACKEND``, then ``DEFAULT_BACKEND``.

    Only an explicit request fails when onnxruntime is missing; the built-in default
    quietly falls back to torch, so a core install still predicts.
    """
    requested = backend or os.environ.get(BACKEND_ENV) or ""
    chosen = (requested or DEFAULT_BACKEND).strip().lower()
    if chosen not in BACKENDS:
        raise ValueError(f"unknown backend {chosen!r}; choose one of {', '.join(BACKENDS)}")
    if chosen != "torch" and not onnx_available():
        if requested:
            raise ImportError(f"backend {chosen!r} needs the onnx and onnxruntime packages "
                              "(core dependencies of themesift: reinstall it)")
        return "torch"
    return chosen


def thread_count() -> int:
    """Same rule as ``encoder.configure_threads``: THEMESIFT_THREADS, else every usable core."""
    if os.environ.get("THEMESIFT_THREADS"):
        return max(1, int(os.environ["THEMESIFT_THREADS"]))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def cache_dir() -> Path:
    """Where exported networks live: THEMESIFT_CACHE_DIR, else ~/.cache/themesift/onnx."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "themesift" / "onnx"


class PooledEncoder(torch.nn.Module):
    """Encoder → mean pooling: the graph the ``embed`` family exports."""

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)


def merged(module: torch.nn.Module) -> torch.nn.Module:
    """The module with any (peft) LoRA adapters merged into a copy; the original keeps them."""
    adapters = [name for name, child in module.named_children() if hasattr(child, "merge_and_unload")]
    if not adapters:
        return module
    module = copy.deepcopy(module)
    for name in adapters:
        setattr(module, name, getattr(module, name).merge_and_unload())
    return module


def weights_key(module: torch.nn.Module) -> str:
    """A digest of every tensor (name, dtype, shape, bytes): equal weights share one export."""
    h = hashlib.sha256(f"{_EXPORT_VERSION}|{torch.__version__}|{OPSET}|{type(module).__name__}".encode())
    for name, tensor in module.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())  # the buffer itself, no copy
    return h.hexdigest()[:32]


def _attention_shape(module: torch.nn.Module) -> tuple[int, int]:
    """(heads, hidden size) from the first Hugging Face config inside; (0, 0) lets the fuser detect them."""
    for child in module.modules():
        config = getattr(child, "config", None)
        if config is not None and hasattr(config, "num_attention_heads"):
            return int(config.num_attention_heads), int(config.hidden_size)
    return 0, 0


def export(module: torch.nn.Module, path: str | Path) -> Path:
    """Export ``module(input_ids, attention_mask)`` with dynamic batch and sequence axes.

    The copy that is exported uses the eager attention code: its MatMul/Softmax pattern is
    the one ONNX Runtime fuses into one ``Attention`` kernel (torch's SDPA export is not),
    which alone made the default model's fp32 inference ~15 % faster.
    """
    import warnings

    copied = merged(module)  # a copy already when LoRA adapters were merged
    module = (copied if copied is not module else copy.deepcopy(module)).eval()  # the caller's stays on SDPA
    for child in module.modules():
        config = getattr(child, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            config._attn_implementation = "eager"
    example = (torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]),
               torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    axes["output"] = {0: "batch"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about python bools in HF code
        torch.onnx.export(module, example, str(path), dynamo=False, opset_version=OPSET, input_names=list(INPUTS),
                          output_names=["output"], dynamic_axes=axes, do_constant_folding=True)
    return Path(path)


def fuse(source: str | Path, target: str | Path, heads: int = 0, hidden: int = 0) -> Path:
    """Fuse attention, LayerNorm+residual and bias+GELU (onnxruntime's transformer optimizer).

    Fusion runs in Python at ``opt_level=0``, so the file holds standard and onnxruntime
    contrib ops only, nothing tied to this CPU. An encoder whose graph the fuser does not
    recognise keeps its plain graph: same numbers, just slower.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    logging.disable(logging.WARNING)  # the fuser logs each pattern it does not find
    try:
        optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=hidden,
                       opt_level=0).save_model_to_file(str(target))
    except Exception as error:  # noqa: BLE001 - an unfusable graph is still a valid one
        log.warning("kept the unfused ONNX graph (%s)", error)
        Path(target).write_bytes(Path(source).read_bytes())
    finally:
        logging.disable(logging.NOTSET)
    return Path(target)


def quantize_int8(source: str | Path, target: str | Path) -> Path:
    """Dynamic int8 quantization of the weight MatMuls and fused Attention (activations per batch).

    Per-channel weight scales, and the down-projections (FFN output: more inputs than
    outputs, fed by GELU activations with large outliers) stay fp32. On the default model
    (ex-cx-gold dev, theme:polarity micro-F1) this costs 0.39 points on the fused graph;
    quantizing the down-projections too cost 0.7-1.0 points, and per-tensor scales were
    worse still. See benchmarks/PROFILE.md.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    down = [n.name for n in model.graph.node if n.op_type == "MatMul"
            and any(len(weights.get(i, ())) == 2 and weights[i][0] > weights[i][1] for i in n.input)]
    del model
    logging.disable(logging.WARNING)  # the quantizer logs a pre-processing hint on the root logger each time
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=down,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # for contrib-op outputs
    finally:
        logging.disable(logging.NOTSET)
    return Path(target)


def _atomic(target: Path, make) -> Path:
    """Build ``target`` via a temp file beside it: parallel workers never read half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        make(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; other users of a shared cache read it too
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def _writable(directory: Path) -> Path:
    """The cache dir, or a per-user temp dir when it cannot be written (read-only home, containers)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if os.access(directory, os.W_OK):
            return directory
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"themesift-onnx-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    log.warning("ONNX cache %s is not writable; using %s", directory, fallback)
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def onnx_file(module: torch.nn.Module, backend: str, directory: str | Path | None = None) -> Path:
    """The cached ONNX file for these weights and backend, exporting it if needed."""
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an ONNX backend: {backend!r}")
    directory = _writable(Path(directory) if directory else cache_dir())
    module = merged(module)
    key = weights_key(module)
    fp32 = directory / f"{key}.onnx"
    if not fp32.is_file():
        log.info("exporting the network to %s", fp32)
        heads, hidden = _attention_shape(module)

        def export_and_fuse(tmp: Path) -> None:
            raw = tmp.with_name(tmp.name + ".raw.onnx")
            try:
                fuse(export(module, raw), tmp, heads, hidden)
            finally:
                raw.unlink(missing_ok=True)

        _atomic(fp32, export_and_fuse)
    if backend == "onnx":
        return fp32
    int8 = directory / f"{key}.int8.onnx"
    if not int8.is_file():
        _atomic(int8, lambda tmp: quantize_int8(fp32, tmp))
    return int8


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id lists to the longest: (input_ids, attention_mask), int64."""
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, x in enumerate(ids):
        input_ids[row, :len(x)] = x
        mask[row, :len(x)] = 1
    return input_ids, mask


def token_budget_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[np.ndarray]:
    """Length-sorted index batches of at most ``batch_size`` texts and ``max_tokens`` padded tokens."""
    batches = []
    for idx in length_sorted_batches(lengths, batch_size):
        per_batch = max(1, max_tokens // max(int(lengths[idx[-1]]), 1))  # idx is sorted: last is longest
        batches += [idx[i:i + per_batch] for i in range(0, len(idx), per_batch)]
    return batches


class OnnxRunner:
    """One ONNX Runtime session; runs texts in token-length-sorted batches."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or thread_count()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int) -> np.ndarray:
        """The network's output for every text, (n, outputs), in input order.

        All texts are tokenized in one call (the Rust tokenizer batches in parallel),
        then grouped by token count, so a batch is padded only to its own longest text.
        """
        ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
        pad_id = tokenizer.pad_token_id or 0
        out: np.ndarray | None = None
        for idx in token_budget_batches([len(x) for x in ids], batch_size, MAX_BATCH_TOKENS):
            input_ids, mask = pad_batch([ids[i] for i in idx], pad_id)
            result = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            if out is None:
                out = np.zeros((len(ids), result.shape[1]), dtype=np.float32)
            out[idx] = result
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def runner_for(module: torch.nn.Module, backend: str) -> OnnxRunner:
    """Export (or reuse the cached export of) ``module`` and open a session on it."""
    return OnnxRunner(onnx_file(module, backend))
