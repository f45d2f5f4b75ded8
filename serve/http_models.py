"""Pydantic request/response models of the HTTP API (the OpenAPI schema at /docs), and
``describe_model``, which fills ``ModelInfo`` from a loaded model and its artifact files.

The result models mirror ``predict()``'s dicts field for field, so a client of the API
and a caller of ``predict`` see the same data.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from themesift.models import artifact
from themesift.models.base import ThemeClassifier


AudienceName = Literal["auto", "employee", "customer"]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["Great team, but the pay is poor.", "Checkout was slow."], "evidence": False}]})

    texts: list[Any] = Field(
        ..., description="Comments to classify, in order. Each should be a string; a null, blank or "
                         "non-string item is not rejected but comes back with `error` set (like predict()). "
                         "At most THEMESIFT_MAX_TEXTS items of at most THEMESIFT_MAX_CHARS characters each.")
    evidence: bool = Field(False, description="Add, per theme, the sentences that carry it with character offsets.")
    audience: Union[AudienceName, list[Optional[AudienceName]]] = Field(
        "auto", description="Who wrote the texts: `auto` (decided per text), `employee` or `customer`, or one of "
                            "those per text (null = auto). With a known audience, the other audience's themes "
                            "are never returned.")


class Evidence(BaseModel):
    text: str
    start: int = Field(..., description="Offset of the sentence in the original text (characters).")
    end: int


class ThemeHit(BaseModel):
    theme: str
    polarity: Optional[str] = Field(..., description="positive, negative or neutral.")
    score: float = Field(..., description="P(theme present), rounded to 4 decimals.")
    evidence: Optional[list[Evidence]] = Field(None, description="Only when the request asked for evidence.")


class TextResult(BaseModel):
    labels: list[str] = Field(..., description="`theme:polarity` labels, highest score first.")
    themes: list[ThemeHit]
    audience: Optional[str] = Field(..., description="employee or customer: given, or decided from the text; "
                                                     "null when the model has no audiences.")
    error: Optional[str] = Field(..., description="Why the text was not classified (e.g. 'empty comment'), else null.")
    warning: Optional[str]


class ModelRef(BaseModel):
    """Which model answered: enough to tie a stored result to an artifact and its training data."""

    family: str
    version: str = Field(..., description="Family plus a SHA-256 prefix of the artifact's files.")
    data_hash: Optional[str] = Field(None, description="Hash of the training data (from metrics.json).")
    trained_at: Optional[str] = None


class ClassifyResponse(BaseModel):
    results: list[TextResult] = Field(..., description="One result per input text, in input order.")
    model: ModelRef


class ThemeInfo(BaseModel):
    id: str
    name: Optional[str] = None
    description: Optional[str] = None
    audience: Optional[str] = Field(None, description="employee or customer; null: a theme both may carry.")


class ModelInfo(ModelRef):
    themes: list[ThemeInfo]
    polarities: list[str]
    taxonomy_version: Optional[str] = None
    params: dict[str, Any]
    thresholds: dict[str, float]
    data: Optional[dict[str, Any]] = Field(None, description="Training data rows and hashes (metrics.json).")
    metrics: Optional[dict[str, Any]] = Field(None, description="Dev/test micro and macro P/R/F1 summary.")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable machine-readable code, e.g. too_many_texts, body_too_large.")
    message: str
    limit: Optional[int] = None
    index: Optional[int] = Field(None, description="Index of the offending text, when one is to blame.")
    details: Optional[list[dict[str, Any]]] = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str
    detail: Optional[str] = None


def _artifact_version(path: Path, family: str) -> str:
    """Family + SHA-256 prefix over the artifact's files (members' folders included):
    changes whenever the model does."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return f"{family}-{digest.hexdigest()[:12]}"


def _metrics_summary(metrics: dict) -> dict:
    out = {}
    for split in ("dev", "test"):
        m = metrics.get(split)
        if isinstance(m, dict):
            out[split] = {"n": m.get("n"), "exact_match": m.get("exact_match"),
                          **{level: {avg: m[level][avg] for avg in ("micro", "macro") if avg in m[level]}
                             for level in ("theme", "theme_polarity") if isinstance(m.get(level), dict)}}
    return out


def describe_model(clf: ThemeClassifier, path: Path | None) -> dict:
    """What /v1/model reports: from the loaded model plus the artifact's JSON files."""
    read = lambda name: artifact.read_json(path / name) if path and (path / name).is_file() else None  # noqa: E731
    metrics, taxonomy = read(artifact.METRICS) or {}, read(artifact.TAXONOMY)
    by_id = {t["id"]: t for t in (taxonomy or {}).get("themes", [])}
    return {
        "family": clf.family,
        "version": _artifact_version(path, clf.family) if path else f"{clf.family}-unsaved",
        "data_hash": ((metrics.get("data") or {}).get("train") or {}).get("hash"),
        "trained_at": metrics.get("trained_at"),
        "themes": [{"id": t, **{k: v for k, v in by_id.get(t, {}).items() if k != "id"},
                    **({"audience": clf.audience_.theme_audiences.get(t)} if clf.audience_ else {})}
                   for t in clf.themes],
        "polarities": list(clf.label_space_.polarities),
        "taxonomy_version": (taxonomy or {}).get("version"),
        "params": clf.get_params(),
        "thresholds": dict(zip(clf.themes, map(float, clf.thresholds_))),
        "data": metrics.get("data"),
        "metrics": _metrics_summary(metrics) or None,
    }
