"""ONNX Runtime inference for the transformer families: the same numbers as torch, less time.

Profiling showed ~97 % of ``predict`` in the encoder's arithmetic (two thirds dense GEMMs),
so the lever is cheaper encoder math: ONNX Runtime's optimised graph gives torch's numbers
somewhat faster on CPU, dynamic int8 weights faster still (benchmarks/PROFILE.md has the
figures). A network is exported once per distinct set of weights (LoRA adapters merged
first) and cached on disk as a plain ONNX protobuf, never a pickle, so a server or a
Spark executor pays the export only on first use. Training always runs in torch; only
inference switches.

The cache is trusted only as far as it can be: every exported file has its sha256 written
beside it (``<file>.sha256``, atomically, after the file), and a file is read once, checked
against that digest and handed to ONNX Runtime as bytes, so a file planted under the expected
name, a truncated one, or one changed between check and use is never run: it is exported
again, with a warning. A cache folder or file that another user owns is never used, nor a file
that others can write; a folder of this user's that others could write is made private first,
and the temp-dir fallback is created (and kept) 0700.

A loaded model finds its export by a key made from its artifact's files (``source_key``), so a
warm cache needs neither torch nor the network: see FinetuneClassifier. Torch is imported only
to export.

Choose with a model's ``backend`` parameter or the ``THEMESIFT_BACKEND`` variable:
``"torch"``, ``"onnx"`` (fp32) or ``"onnx-int8"``.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import stat
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from themesift.models.encoder import length_sorted_batches, thread_count
from themesift.nlp.atomic import atomic_path

if TYPE_CHECKING:  # pragma: no cover
    import torch

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
DIGEST_SUFFIX = ".sha256"
# bump when the export or quantization recipe changes: old cached files are then ignored
# (5: digests beside the files, keys from artifact files)
_EXPORT_VERSION = "5"

log = logging.getLogger(__name__)


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401  (torch.onnx.export and the quantizer need it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def runtime_available() -> bool:
    """ONNX Runtime alone: enough to run a cached export (exporting also needs onnx and torch)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str | None = None) -> str:
    """An explicit parameter wins, then ``THEMESIFT_BACKEND``, then ``DEFAULT_BACKEND``.

    Only an explicit request fails when onnxruntime is missing; the built-in default
    quietly falls back to torch, so a core install still predicts. (Exporting also needs the
    ``onnx`` package, imported only then: a warm cache runs on onnxruntime alone.)
    """
    requested = backend or os.environ.get(BACKEND_ENV) or ""
    chosen = (requested or DEFAULT_BACKEND).strip().lower()
    if chosen not in BACKENDS:
        raise ValueError(f"unknown backend {chosen!r}; choose one of {', '.join(BACKENDS)}")
    if chosen != "torch" and not runtime_available():
        if requested:
            raise ImportError(
                f"backend {chosen!r} needs the onnx and onnxruntime packages "
                "(core dependencies of themesift: reinstall it)"
            )
        return "torch"
    return chosen


def cache_dir() -> Path:
    """Where exported networks live: THEMESIFT_CACHE_DIR, else ~/.cache/themesift/onnx."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "themesift" / "onnx"


# -- a cache only this user can write -----------------------------------------------------
def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _owner_only(st: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (always true where there are no uids)."""
    uid = _uid()
    return uid is None or (st.st_uid == uid and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _private_dir(path: Path, *, follow: bool, private: int = stat.S_IWGRP | stat.S_IWOTH) -> bool:
    """A folder of this user's that nobody else can write. One this user owns with too open a mode
    (an umask of 002, a ``chmod 777``) is tightened (``private``: the bits taken away) and used: files
    others planted in it are refused anyway, since each file read must be this user's own."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or (_uid() is not None and st.st_uid != _uid()):
        return False
    if st.st_mode & private:
        log.warning("ONNX cache folder %s could be written by other users: making it private to you", path)
        try:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~private)
        except OSError:
            return False
    return True


def _fallback_dir() -> Path:
    """``<tmp>/themesift-onnx-<uid>``, created 0700 (and kept 0700); when that name is taken by a
    folder this user does not own (another user's, or a link), a fresh private temp folder."""
    fallback = Path(tempfile.gettempdir()) / f"themesift-onnx-{_uid() if _uid() is not None else 'user'}"
    try:
        fallback.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return Path(tempfile.mkdtemp(prefix="themesift-onnx-"))
    if _private_dir(fallback, follow=False, private=0o077):
        return fallback
    fresh = Path(tempfile.mkdtemp(prefix="themesift-onnx-"))  # 0700, a new name: nobody else can have planted files
    log.warning(
        "%s is not this user's own folder (another owner, or a link): not using it; exports go to %s for this process",
        fallback,
        fresh,
    )
    return fresh


def usable_cache_dir(directory: str | Path | None = None) -> Path:
    """The cache dir when this user owns it alone and can write it, else the private fallback."""
    directory = Path(directory) if directory else cache_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private_dir(directory, follow=True):
            reason = "is not a folder owned by this user"
        elif not os.access(directory, os.W_OK):
            reason = "is not writable"
        else:
            return directory
    except OSError as error:
        reason = f"cannot be created ({error.strerror or error})"
    fallback = _fallback_dir()
    log.warning("ONNX cache %s %s; using %s", directory, reason, fallback)
    return fallback


# -- files with their digest ------------------------------------------------------------------
def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + DIGEST_SUFFIX)


def _read_owned(path: Path) -> bytes:
    """A regular file's bytes, refusing links and files others can write (read from one descriptor)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _owner_only(st):
            raise PermissionError(f"{path} is not a regular file owned by this user alone")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def read_verified(path: str | Path) -> bytes | None:
    """The file's bytes if its sha256 matches the digest written beside it; None (with a warning
    when a file was there) if it is missing, has no digest, fails it, or is not this user's own."""
    path = Path(path)
    if not os.path.lexists(path):
        return None
    try:
        data = _read_owned(path)
        expected = _read_owned(_digest_path(path)).decode("ascii").split()[0]
    except (OSError, UnicodeDecodeError, IndexError) as error:
        log.warning("ONNX cache file %s cannot be verified (%s): exporting it again", path, error)
        return None
    if hashlib.sha256(data).hexdigest() != expected:
        log.warning("ONNX cache file %s does not match its sha256 digest: exporting it again", path)
        return None
    return data


def publish(target: Path, make: Callable[[Path], object]) -> bytes:
    """Build ``target`` through a temp file beside it, then write its digest beside it; both atomic.

    Returns the bytes written, so the caller runs exactly what was digested."""
    with atomic_path(target) as tmp:
        make(tmp)
        data = tmp.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with atomic_path(_digest_path(target)) as tmp:
        tmp.write_text(f"{digest}  {target.name}\n", "ascii")  # the `sha256sum -c` format
    for path in (target, _digest_path(target)):
        os.chmod(path, os.stat(path).st_mode & ~(stat.S_IWGRP | stat.S_IWOTH) & 0o7777)
    return data


# -- keys ---------------------------------------------------------------------------------------
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def source_key(*parts: str | bytes) -> str:
    """A cache key from what an artifact is made of (file bytes, parameters), computed without
    torch: with the exporter's versions and the recipe version, equal inputs give equal exports."""
    h = hashlib.sha256(
        f"source|{_EXPORT_VERSION}|{OPSET}|torch {_version('torch')}|onnxruntime {_version('onnxruntime')}".encode()
    )
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return "s" + h.hexdigest()[:31]


def folder_fingerprint(folder: str | Path) -> str:
    """Names, sizes and modification times of a folder's files: a base model's identity for
    ``source_key`` (cheap; the digest of the export, not this, is what guards the cache)."""
    folder = Path(folder)
    rows = []
    for path in sorted(folder.iterdir()):
        if path.is_file():
            st = path.stat()
            rows.append(f"{path.name}|{st.st_size}|{st.st_mtime_ns}")
    return f"{folder.resolve()}\n" + "\n".join(rows)


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
    import torch

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

    import torch

    copied = merged(module)  # a copy already when LoRA adapters were merged
    module = (copied if copied is not module else copy.deepcopy(module)).eval()  # the caller's stays on SDPA
    for child in module.modules():
        config = getattr(child, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            config._attn_implementation = "eager"
    example = (torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    axes["output"] = {0: "batch"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about python bools in HF code
        torch.onnx.export(
            module,
            example,
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=["output"],
            dynamic_axes=axes,
            do_constant_folding=True,
        )
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
        optimize_model(
            str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
        ).save_model_to_file(str(target))
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
    down = [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul"
        and any(len(weights.get(i, ())) == 2 and weights[i][0] > weights[i][1] for i in n.input)
    ]
    del model
    logging.disable(logging.WARNING)  # the quantizer logs a pre-processing hint on the root logger each time
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=down,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # for contrib-op outputs
    finally:
        logging.disable(logging.NOTSET)
    return Path(target)


def cached_export(key: str, backend: str, directory: str | Path | None = None) -> tuple[Path, bytes] | None:
    """The verified export for ``key`` and ``backend`` already in the cache, or None."""
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an ONNX backend: {backend!r}")
    path = usable_cache_dir(directory) / f"{key}{'.int8' if backend == 'onnx-int8' else ''}.onnx"
    data = read_verified(path)
    return None if data is None else (path, data)


def ensure_export(
    module: torch.nn.Module, backend: str, directory: str | Path | None = None, key: str | None = None
) -> tuple[Path, bytes]:
    """The verified cached export of ``module`` (key: ``key``, else its weights), exporting what is
    missing or fails its digest. The int8 file is quantized from a verified fp32 one."""
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an ONNX backend: {backend!r}")
    directory = usable_cache_dir(directory)
    module = merged(module)
    key = key or weights_key(module)
    fp32 = directory / f"{key}.onnx"
    fp32_bytes = read_verified(fp32)
    if fp32_bytes is None:
        log.info("exporting the network to %s", fp32)
        heads, hidden = _attention_shape(module)

        def export_and_fuse(tmp: Path) -> None:
            raw = tmp.with_name(tmp.name + ".raw.onnx")
            try:
                fuse(export(module, raw), tmp, heads, hidden)
            finally:
                raw.unlink(missing_ok=True)

        fp32_bytes = publish(fp32, export_and_fuse)
    if backend == "onnx":
        return fp32, fp32_bytes
    int8 = directory / f"{key}.int8.onnx"
    int8_bytes = read_verified(int8)
    if int8_bytes is None:

        def quantize_verified(tmp: Path) -> None:
            source = tmp.with_name(tmp.name + ".fp32.onnx")  # the verified bytes, not whatever the path holds now
            try:
                source.write_bytes(fp32_bytes)
                quantize_int8(source, tmp)
            finally:
                source.unlink(missing_ok=True)

        int8_bytes = publish(int8, quantize_verified)
    return int8, int8_bytes


def onnx_file(
    module: torch.nn.Module, backend: str, directory: str | Path | None = None, key: str | None = None
) -> Path:
    """The cached, verified ONNX file for these weights and backend, exporting it if needed."""
    return ensure_export(module, backend, directory, key)[0]


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id lists to the longest: (input_ids, attention_mask), int64."""
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = x
        mask[row, : len(x)] = 1
    return input_ids, mask


def token_budget_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[np.ndarray]:
    """Length-sorted index batches of at most ``batch_size`` texts and ``max_tokens`` padded tokens."""
    batches = []
    for idx in length_sorted_batches(lengths, batch_size):
        per_batch = max(1, max_tokens // max(int(lengths[idx[-1]]), 1))  # idx is sorted: last is longest
        batches += [idx[i : i + per_batch] for i in range(0, len(idx), per_batch)]
    return batches


class OnnxRunner:
    """One ONNX Runtime session; runs texts in token-length-sorted batches."""

    def __init__(self, path: str | Path, threads: int | None = None, *, model: bytes | None = None):
        """``model``: the file's verified bytes (what the session runs); without it, ``path`` is
        read and verified against its digest, and refused when it fails."""
        import onnxruntime as ort

        if model is None:
            model = read_verified(path)
            if model is None:
                raise ValueError(f"{path} has no matching sha256 digest beside it: not running it")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or thread_count()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

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


def runner_for(module: torch.nn.Module, backend: str, key: str | None = None) -> OnnxRunner:
    """Export (or reuse the verified cached export of) ``module`` and open a session on it."""
    path, data = ensure_export(module, backend, key=key)
    return OnnxRunner(path, model=data)


def cached_runner(key: str, backend: str) -> OnnxRunner | None:
    """A session on the verified cached export for ``key``, or None: no torch, no network built."""
    if not runtime_available():
        return None
    found = cached_export(key, backend)
    return None if found is None else OnnxRunner(found[0], model=found[1])
