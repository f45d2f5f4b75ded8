"""What a data scientist needs to reproduce an artifact: versions, hardware, time."""

from __future__ import annotations

import os
import platform
from importlib import metadata

_PACKAGES = ("themesift", "torch", "transformers", "peft", "scikit-learn", "numpy", "spacy")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def hardware() -> dict:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cpus = os.cpu_count()
    info = {
        "machine": platform.machine(),
        "system": platform.system(),
        "cpus": cpus,
        "processor": platform.processor() or None,
    }
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        pass
    return info
