"""``predict``: the one inference entry point that the CLI, HTTP and Spark layers wrap.

Each text gets one result dict, in input order. Unusable inputs (empty, not a string)
are never dropped: they come back with ``error`` set and no themes.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from themesift.models.audience import per_text_audiences
from themesift.models.base import Audience, ThemeClassifier, presence_scores
from themesift.models.registry import load_artifact
from themesift.nlp.normalize import normalize_text, text_problem
from themesift.nlp.table_readers import repair_text

ModelLike = Union[ThemeClassifier, str, Path, None]
DEFAULT_MAX_CHARS = 20_000


def default_model_path() -> Path:
    return Path(str(resources.files("themesift") / "default_model"))


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> ThemeClassifier:
    """predict()'s own copy of each model: nobody else gets a reference to it, so nothing a caller
    does to a model (set_thresholds, set_params) can change what a later predict() returns."""
    return load_artifact(path)


def _model_path(path: str | Path | None) -> str:
    if path is None or str(path) == "default":
        path = default_model_path()
    return str(Path(path).expanduser().resolve())


def load_model(path: str | Path | None = None) -> ThemeClassifier:
    """A new, independent model loaded from a directory (no argument: the shipped default).

    Each call loads afresh (with a warm ONNX cache that is cheap), so changing the model you get
    back changes only that object; ``predict(texts)`` without a model keeps its own cached copy.
    Keep the object and pass it as ``predict(texts, model=m)`` to reuse it."""
    return load_artifact(_model_path(path))


def resolve_model(model: ModelLike) -> ThemeClassifier:
    """A model object as is; a path or None: predict()'s cached, private copy (loaded once per process)."""
    return model if isinstance(model, ThemeClassifier) else _load_cached(_model_path(model))


def _result(
    themes: list[dict] | None = None, error: str | None = None, warning: str | None = None, audience: str | None = None
) -> dict:
    themes = themes or []
    return {
        "labels": [f"{t['theme']}:{t['polarity']}" for t in themes],
        "themes": themes,
        "audience": audience,
        "error": error,
        "warning": warning,
    }


def predict(
    texts: Sequence[Any],
    model: ModelLike = None,
    *,
    evidence: bool = False,
    max_chars: int = DEFAULT_MAX_CHARS,
    audience: Audience = "auto",
) -> list[dict]:
    """Classify texts: ``[{"labels", "themes": [{"theme", "polarity", "score"}], "audience", "error", "warning"}]``.

    ``audience`` is ``"auto"`` (decided per text from its wording), ``"employee"``, ``"customer"``,
    or one of those per text; with a known audience the other audience's themes are never output,
    and ``audience`` in each result says what was used (None when the model has no audiences and
    none was given). ``evidence=True`` adds, per theme, the sentences that carry it with character
    offsets into the original text. Texts longer than ``max_chars`` are cut there, and lone UTF-16
    surrogates (valid JSON escapes, undecodable command-line bytes) are replaced one character
    for one; ``warning`` says so.
    """
    if isinstance(texts, str):
        raise TypeError("predict() takes a list of texts; wrap a single text in a list")
    clf = resolve_model(model)
    texts = list(texts)
    given = per_text_audiences(audience, len(texts))
    results: list[dict | None] = [None] * len(texts)
    todo, clean = [], []
    for i, value in enumerate(texts):
        if not isinstance(value, str):
            results[i] = _result(error=f"{text_problem(value)} comment", audience=given[i])
            continue
        notes = []
        value, problem = repair_text(value)  # lone surrogates (JSON escapes, non-UTF-8 argv): one char for one
        if problem:
            notes.append(problem)
        if len(value) > max_chars:
            value = value[:max_chars]
            notes.append(f"truncated to {max_chars} characters")
        texts[i] = value
        warning = "; ".join(notes) or None
        normalized = normalize_text(value)  # once per text: it is most of a TF-IDF model's predict time
        if not normalized:
            results[i] = _result(
                error="empty comment"
                if len(value) < max_chars
                else f"empty comment (no text in the first {max_chars} characters)",
                audience=given[i],
            )
            continue
        results[i] = _result(warning=warning)
        todo.append(i)
        clean.append(normalized)
    if todo:
        decided = clf.predict_audience(clean, [given[i] for i in todo])
        proba = clf.predict_proba(clean, audience=decided)
        for row, label_set, who in zip(todo, _decode_themes(clf, proba), decided):
            results[row]["themes"] = label_set
            results[row]["labels"] = [f"{t['theme']}:{t['polarity']}" for t in label_set]
            results[row]["audience"] = who
        if evidence:
            from themesift.serve.evidence import attach_evidence

            attach_evidence(clf, [texts[i] for i in todo], [results[i] for i in todo], decided)
    return results  # type: ignore[return-value]


def _decode_themes(clf: ThemeClassifier, proba: np.ndarray) -> list[list[dict]]:
    """Label sets with each theme's presence score, highest score first."""
    scores = presence_scores(proba)
    out = []
    space = clf.label_space_
    for row, labels in enumerate(clf.decode(proba)):
        themes = []
        for label in labels:
            theme, _, polarity = label.partition(":")
            themes.append(
                {
                    "theme": theme,
                    "polarity": polarity or None,
                    "score": round(float(scores[row, space.theme_index(theme)]), 4),
                }
            )
        out.append(sorted(themes, key=lambda t: -t["score"]))
    return out
