"""Pydantic request/response models of the HTTP API (the OpenAPI schema at /docs), and
``describe_model``, which fills ``ModelInfo`` from a loaded model and its artifact files.

The result models mirror ``predict()``'s dicts field for field, so a client of the API
and a caller of ``predict`` see the same data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from themesift.models import artifact
from themesift.models.base import ThemeClassifier

AudienceName = Literal["auto", "employee", "customer"]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"texts": ["Great team, but the pay is poor.", "Checkout was slow."], "evidence": False}]
        },
    )

    texts: list[Any] = Field(
        ...,
        description="Comments to classify, in order. Each should be a string; a null, blank or "
        "non-string item is not rejected but comes back with `error` set (like predict()). "
        "At most THEMESIFT_MAX_TEXTS items of at most THEMESIFT_MAX_CHARS characters each, and at "
        "most THEMESIFT_MAX_REQUEST_CHARS characters in all (evidence multiplies the count). A "
        "lone surrogate (e.g. \\ud800) is replaced by U+FFFD, with a warning on that item.",
    )
    evidence: StrictBool = Field(
        False,
        description="Add, per theme, the sentences that carry it with character "
        "offsets (JSON true/false only; costs more: see the cost limit).",
    )
    audience: Union[AudienceName, list[AudienceName | None]] = Field(
        "auto",
        description="Who wrote the texts: `auto` (decided per text), `employee` or `customer`, or one of "
        "those per text (null = auto). With a known audience, the other audience's themes "
        "are never returned.",
    )


class Evidence(BaseModel):
    text: str
    start: int = Field(..., description="Offset of the sentence in the original text (characters).")
    end: int


class ThemeHit(BaseModel):
    theme: str
    polarity: str | None = Field(..., description="positive, negative or neutral.")
    score: float = Field(..., description="P(theme present), rounded to 4 decimals.")
    evidence: list[Evidence] | None = Field(None, description="Only when the request asked for evidence.")


class TextResult(BaseModel):
    labels: list[str] = Field(..., description="`theme:polarity` labels, highest score first.")
    themes: list[ThemeHit]
    audience: str | None = Field(
        ..., description="employee or customer: given, or decided from the text; null when the model has no audiences."
    )
    error: str | None = Field(..., description="Why the text was not classified (e.g. 'empty comment'), else null.")
    warning: str | None


class ModelRef(BaseModel):
    """Which model answered: enough to tie a stored result to an artifact and its training data."""

    family: str
    version: str = Field(..., description="Family plus a SHA-256 prefix of the artifact's files.")
    data_hash: str | None = Field(None, description="Hash of the training data (from metrics.json).")
    trained_at: str | None = None


class ClassifyResponse(BaseModel):
    results: list[TextResult] = Field(..., description="One result per input text, in input order.")
    model: ModelRef


class ThemeInfo(BaseModel):
    id: str
    name: str | None = None
    description: str | None = None
    audience: str | None = Field(None, description="employee or customer; null: a theme both may carry.")


class ModelInfo(ModelRef):
    themes: list[ThemeInfo]
    polarities: list[str]
    taxonomy_version: str | None = None
    params: dict[str, Any]
    thresholds: dict[str, float]
    data: dict[str, Any] | None = Field(
        None, description="Training data rows and hashes per split (metrics.json); local file paths are never shown."
    )
    metrics: dict[str, Any] | None = Field(None, description="Dev/test micro and macro P/R/F1 summary.")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable machine-readable code, e.g. too_many_texts, body_too_large.")
    message: str
    limit: int | None = None
    index: int | None = Field(None, description="Index of the offending text, when one is to blame.")
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str
    detail: str | None = None


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


_DATA_KEYS = ("rows", "hash", "refit", "n")  # what /v1/model tells of training data: never a path


def _public_data(data: Any) -> dict | None:
    """Rows and hashes per split, without the local paths (``path``, ``source``) metrics.json holds."""
    if not isinstance(data, dict):
        return None
    return {
        split: {k: v for k, v in info.items() if k in _DATA_KEYS} if isinstance(info, dict) else None
        for split, info in data.items()
    }


def _public_params(value: Any) -> Any:
    """Params with any path-like string (a local base-model folder, say) cut to its last component."""
    if isinstance(value, dict):
        return {k: _public_params(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public_params(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value or value.startswith("~")):
        return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return value


def _metrics_summary(metrics: dict) -> dict:
    out = {}
    for split in ("dev", "test"):
        m = metrics.get(split)
        if isinstance(m, dict):
            out[split] = {
                "n": m.get("n"),
                "exact_match": m.get("exact_match"),
                **{
                    level: {avg: m[level][avg] for avg in ("micro", "macro") if avg in m[level]}
                    for level in ("theme", "theme_polarity")
                    if isinstance(m.get(level), dict)
                },
            }
    return out


def describe_model(clf: ThemeClassifier, path: Path | None) -> dict:
    """What /v1/model reports: from the loaded model plus the artifact's JSON files, without
    local paths (training files, model folders), which may name a user's HR exports."""
    read = lambda name: artifact.read_json(path / name) if path and (path / name).is_file() else None  # noqa: E731
    metrics, taxonomy = read(artifact.METRICS) or {}, read(artifact.TAXONOMY)
    by_id = {t["id"]: t for t in (taxonomy or {}).get("themes", [])}
    return {
        "family": clf.family,
        "version": _artifact_version(path, clf.family) if path else f"{clf.family}-unsaved",
        "data_hash": ((metrics.get("data") or {}).get("train") or {}).get("hash"),
        "trained_at": metrics.get("trained_at"),
        "themes": [
            {
                "id": t,
                **{k: v for k, v in by_id.get(t, {}).items() if k != "id"},
                **({"audience": clf.audience_.theme_audiences.get(t)} if clf.audience_ else {}),
            }
            for t in clf.themes
        ],
        "polarities": list(clf.label_space_.polarities),
        "taxonomy_version": (taxonomy or {}).get("version"),
        "params": _public_params(clf.get_params()),
        "thresholds": dict(zip(clf.themes, map(float, clf.thresholds_))),
        "data": _public_data(metrics.get("data")),
        "metrics": _metrics_summary(metrics) or None,
    }


def docs_html(schema: dict) -> str:
    """/docs: a self-contained page (no script, no CDN) listing the endpoints of the OpenAPI
    schema; the schema itself is at /openapi.json for any OpenAPI viewer."""
    import html

    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            ref = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema", {})
            body = ref.get("$ref", "").rsplit("/", 1)[-1]
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())} {html.escape(path)}</code></td>"
                f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(body)}</td>"
                f"<td>{html.escape(codes)}</td></tr>"
            )
    info = schema.get("info", {})
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>themesift API</title>'
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>{html.escape(info.get('title', 'API'))} {html.escape(str(info.get('version', '')))}</h1>"
        f"<p>{html.escape(info.get('description', ''))}</p>"
        '<p>The full OpenAPI schema: <a href="/openapi.json">/openapi.json</a>.</p>'
        "<table><tr><th>endpoint</th><th>what</th><th>JSON body</th><th>statuses</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
