"""themesift: sort open-text comments into themes, each with a polarity."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["predict", "load_model", "train", "evaluate", "__version__"]


def __getattr__(name: str):
    # Lazy: `import themesift` stays cheap (no torch) until a model is actually needed.
    if name in ("predict", "load_model"):
        from themesift.serve import predict as _predict

        return getattr(_predict, name)
    if name in ("train", "evaluate"):  # training on data in memory: themesift.training.api
        from themesift.training import api as _api

        return getattr(_api, name)
    raise AttributeError(f"module 'themesift' has no attribute {name!r}")
