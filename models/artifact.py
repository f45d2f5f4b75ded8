"""Model artifacts are directories of JSON and safetensors, written atomically.

Nothing in an artifact executes code on load: no pickle, no joblib. A model folder is untrusted
input (downloaded, or a typo away from the wrong folder), so every file is read through this
module: a regular file inside its folder (no link to ``/etc/passwd`` or ``/dev/zero``), JSON
under ``MAX_JSON_BYTES``, safetensors whose header and tensors check out; anything else is a
``ModelFileError``, one line naming the file.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

CONFIG = "config.json"
LABELS = "labels.json"
THRESHOLDS = "thresholds.json"
METRICS = "metrics.json"
WEIGHTS = "weights.safetensors"
TAXONOMY = "taxonomy.json"
CARD = "README.md"
FORMAT_VERSION = 1  # the newest config.json format this code reads
MAX_JSON_BYTES = 64 * 2**20  # per JSON file; the default model's largest is 1.5 MB


class ModelFileError(ValueError):
    """A model folder file that is missing, not a regular file, too big, corrupt or out of range."""


def write_json(path: Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n", "utf-8")


def regular_file(path: str | Path, root: str | Path | None = None) -> Path:
    """``path``'s real location, if it is a regular file inside ``root`` (default: its own folder).

    A link out of the folder or to a device/FIFO is refused: ``labels.json -> /dev/zero`` would
    otherwise be read until memory runs out."""
    path = Path(path)
    if not os.path.lexists(path):
        raise ModelFileError(f"{path}: no such file")
    real = resolve(path)
    inside = resolve(Path(root if root is not None else path.parent))
    if not real.is_relative_to(inside):
        raise ModelFileError(f"{path}: links to {real}, outside the model folder {inside}: refused")
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise ModelFileError(f"{path}: not a regular file")
    return real


def resolve(path: Path) -> Path:
    """``path`` with every link followed; a link loop is a ModelFileError, not a RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ModelFileError(f"{path}: cannot be followed ({exc})") from None


def read_bytes(path: str | Path, limit: int = MAX_JSON_BYTES, root: str | Path | None = None) -> bytes:
    """The file's bytes, refusing more than ``limit`` (checked on the size and again while reading)."""
    real = regular_file(path, root)
    if real.stat().st_size > limit:
        raise ModelFileError(f"{path}: {real.stat().st_size:,} bytes, over the {limit:,}-byte limit for this file")
    with open(real, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{path}: over the {limit:,}-byte limit for this file")
    return data


def read_json(path: str | Path, root: str | Path | None = None) -> Any:
    """A bounded JSON file of a model folder (see read_bytes); bad JSON is a ModelFileError."""
    data = read_bytes(path, MAX_JSON_BYTES, root)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: JSON nested too deeply") from None


def read_config(directory: str | Path) -> dict:
    """``config.json`` checked for shape and version: an object with a known ``format_version``
    (a newer one than this code reads is refused, naming the version needed) and a ``family``."""
    path = Path(directory) / CONFIG
    config = read_json(path)
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: must be a JSON object, got {type(config).__name__}")
    version = config.get("format_version", 1)
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: 'format_version' must be a whole number from 1, got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version} is newer than this themesift reads "
            f"(up to {FORMAT_VERSION}): upgrade themesift to a release that reads format "
            f"{version}"
        )
    if not isinstance(config.get("family"), str):
        raise ModelFileError(f"{path}: 'family' must name the model family, got {config.get('family')!r}")
    return config


def load_tensors(path: str | Path, root: str | Path | None = None) -> dict[str, np.ndarray]:
    """A safetensors file as numpy arrays, refusing a corrupt or truncated file and NaN/inf values."""
    from safetensors.numpy import load_file

    real = regular_file(path, root)
    try:
        tensors = load_file(str(real))
    except Exception as exc:  # SafetensorError, or a dtype numpy lacks
        raise ModelFileError(f"{path}: not a valid safetensors file ({first_line(exc)})") from None
    _check_finite(path, tensors.items())
    return tensors


def check_tensors(path: str | Path, root: str | Path | None = None) -> None:
    """Refuse a safetensors file that is corrupt or holds NaN/inf, before a family hands it to torch."""
    from safetensors import safe_open

    real = regular_file(path, root)
    try:
        with safe_open(str(real), framework="numpy") as fh:
            names = fh.keys()
            for name in names:
                if fh.get_slice(name).get_dtype() in ("F16", "F32", "F64"):
                    _check_finite(path, [(name, fh.get_tensor(name))])
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path}: not a valid safetensors file ({first_line(exc)})") from None


def _check_finite(path: str | Path, tensors) -> None:
    for name, value in tensors:
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{path}: tensor {name!r} holds NaN or infinite values")


def first_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def check_output_dir(target: str | Path, force: bool = False) -> Path:
    """Refuse an output that exists and is not a themesift model (a typo'd ``~/Documents`` would
    otherwise be replaced whole); an empty folder or an earlier model is fine, anything with ``force``."""
    target = Path(target)
    if force or not target.exists():
        return target
    if not target.is_dir():
        raise FileExistsError(
            f"output {target} is a file, not a model directory: choose another path (or --force to replace it)"
        )
    if not (target / CONFIG).is_file() and any(target.iterdir()):
        raise FileExistsError(
            f"output {target} exists and is not a themesift model (no {CONFIG}): not replacing "
            "it; choose another path (or --force to replace it and everything in it)"
        )
    return target


@contextmanager
def atomic_directory(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temp dir beside ``target``; on success it replaces ``target`` in one rename.

    A crash mid-save leaves the previous artifact (if any) intact and no half-written one.
    ``target`` must not be something other than a model, unless ``force`` (check_output_dir).
    """
    target = check_output_dir(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _make_readable(tmp)
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        os.replace(tmp, target)
        if backup is not None:
            if backup.is_dir():
                shutil.rmtree(backup, ignore_errors=True)
            else:
                backup.unlink()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _make_readable(directory: Path) -> None:
    """mkdtemp makes a private (0700) folder; an artifact is shared like any other file."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(directory, 0o777 & ~umask)
    for item in directory.rglob("*"):
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~umask)


def check_artifact_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model directory not found: {path}")
    if not os.path.lexists(path / CONFIG):
        raise FileNotFoundError(f"{path} is not a themesift model: it has no {CONFIG}")
    regular_file(path / CONFIG)
    return path
