"""Model artifacts are directories of JSON and safetensors, written atomically.

Nothing in an artifact executes code on load: no pickle, no joblib.
"""
from __future__ import annotations

import json
import os
import shutil
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
FORMAT_VERSION = 1


def write_json(path: Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n", "utf-8")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text("utf-8"))


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
        raise FileExistsError(f"output {target} is a file, not a model directory: choose another path "
                              "(or --force to replace it)")
    if not (target / CONFIG).is_file() and any(target.iterdir()):
        raise FileExistsError(f"output {target} exists and is not a themesift model (no {CONFIG}): not replacing "
                              "it; choose another path (or --force to replace it and everything in it)")
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
    if not (path / CONFIG).is_file():
        raise FileNotFoundError(f"{path} is not a themesift model: it has no {CONFIG}")
    return path
