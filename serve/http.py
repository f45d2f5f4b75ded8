"""HTTP API over ``predict`` (FastAPI + uvicorn), for other services.

Endpoints: ``POST /v1/classify`` ({"texts": [...], "evidence": false} → one result per
text, exactly what ``predict()`` returns, plus which model answered), ``GET /v1/model``
(themes, family, params, training-data hash, metrics summary; no local paths), ``GET /healthz``
(alive: always 200), ``GET /readyz`` (503 until the model has loaded, then 200), ``/docs`` (a
self-contained page, no CDN) and ``/openapi.json``.

Limits (``Limits``; ``create_app(limits=...)`` or environment variables read at start-up; a bad
value stops ``themesift serve`` with one line naming the variable). Every limit answers with a
JSON error ``{"error": {"code", "message", "limit"?, "index"?}}``, never a 500:

- ``THEMESIFT_MAX_TEXTS`` (256) texts per request → 422 ``too_many_texts``;
  ``THEMESIFT_MAX_CHARS`` (20000) characters per text → 422 ``text_too_long``;
  ``THEMESIFT_MAX_BODY_BYTES`` (2000000) body bytes → 413 ``body_too_large`` (Content-Length and
  streamed bytes, before parsing); ``THEMESIFT_MAX_REQUEST_CHARS`` (250000) characters per
  request, each counting ``THEMESIFT_EVIDENCE_COST`` (4) times with evidence → 413
  ``request_too_costly``.
- ``THEMESIFT_MAX_INFLIGHT`` (2) inferences at once, ``THEMESIFT_MAX_QUEUE`` (64) more waiting,
  each at most ``THEMESIFT_QUEUE_TIMEOUT`` (60) s → 503 ``overloaded`` with ``Retry-After``.
- ``THEMESIFT_BODY_TIMEOUT`` (30 s) to receive the body → 408 ``body_timeout``;
  ``THEMESIFT_HEADER_TIMEOUT`` (10 s) to receive the request head, ``THEMESIFT_KEEP_ALIVE`` (5 s)
  idle → connection closed; ``THEMESIFT_MAX_CONNECTIONS`` (256, uvicorn ``limit_concurrency``) →
  503; request heads over 16 KiB (h11) → 400.

``THEMESIFT_API_KEY`` set: every path but /healthz, /readyz, /docs and /openapi.json needs
``Authorization: Bearer KEY`` (401 ``unauthorized`` otherwise). Each response carries
``X-Request-ID`` (the client's when it is a short token, else a new one), also in the access-log
line with status, latency and bytes. Malformed JSON (bad syntax, invalid UTF-8, too deep, huge
numbers) is 400 ``malformed_json``. Non-string items in ``texts`` are flagged in their result's
``error`` like ``predict``; a lone surrogate (valid JSON, not encodable) is replaced by U+FFFD by
``predict`` itself, which keeps every character offset, and the item says so in ``warning``.

Inference runs in worker threads, off the event loop. Micro-batching is on by default
(``THEMESIFT_BATCH_MS``, 10 ms; ``serve/batcher.py``): requests arriving together share one
``predict`` call (at most one running per evidence setting, up to 1,024 texts), and a failing request in a merged
batch fails alone. It was measured faster: 50 clients × 16 comments, default model, one
worker, 2 busy shared cores, off/on/off/on: 15.8, 21.3, 13.2, 26.7 comments/s, server CPU
25.9, 15.0, 24.4, 14.3 ms per comment (``benchmarks/results/http_load_batching.json``). A
transformer's scores depend very slightly on batch composition (padding: 1 of 640 results
differed in a score's 4th decimal between batches of 16 and 128); ``THEMESIFT_BATCH_MS=0``
makes each request one ``predict`` call, equal to in-process ``predict`` on it exactly, with
at most ``THEMESIFT_MAX_INFLIGHT`` running at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.serve.batcher import MicroBatcher
from themesift.serve.http_guard import (
    ApiError,
    ApiKeyAuth,
    BodyLimit,
    GuardedH11Protocol,
    InferenceGate,
    RequestLog,
    error_bytes,
    request_id,
)
from themesift.serve.http_models import (
    ClassifyRequest,
    ClassifyResponse,
    ErrorResponse,
    Health,
    ModelInfo,
    describe_model,
    docs_html,
)
from themesift.serve.predict import ModelLike, default_model_path, load_model, predict

log = logging.getLogger("themesift.serve.http")
MODEL_ENV = "THEMESIFT_MODEL"
API_KEY_ENV = "THEMESIFT_API_KEY"


class ServeConfigError(ValueError):
    """A bad serve setting (environment variable or argument), shown as one line."""


def _env(env: dict, name: str, default: float, cast: Callable[[str], float], minimum: float) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = cast(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum or value != value:
        kind = "an integer" if cast is int else "a number"
        raise ServeConfigError(f"{name} must be {kind} >= {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Limits:
    """Per-request, per-connection and per-server limits; over one → a 4xx/503 naming it, never a 500."""

    max_texts: int = 256
    max_chars: int = 20_000
    max_body_bytes: int = 2_000_000
    max_request_chars: int = 250_000
    evidence_cost: int = 4
    max_inflight: int = 2
    max_queue: int = 64
    queue_timeout_s: float = 60.0
    body_timeout_s: float = 30.0
    header_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_connections: int = 256

    ENV = {
        "max_texts": "THEMESIFT_MAX_TEXTS",
        "max_chars": "THEMESIFT_MAX_CHARS",
        "max_body_bytes": "THEMESIFT_MAX_BODY_BYTES",
        "max_request_chars": "THEMESIFT_MAX_REQUEST_CHARS",
        "evidence_cost": "THEMESIFT_EVIDENCE_COST",
        "max_inflight": "THEMESIFT_MAX_INFLIGHT",
        "max_queue": "THEMESIFT_MAX_QUEUE",
        "queue_timeout_s": "THEMESIFT_QUEUE_TIMEOUT",
        "body_timeout_s": "THEMESIFT_BODY_TIMEOUT",
        "header_timeout_s": "THEMESIFT_HEADER_TIMEOUT",
        "keep_alive_s": "THEMESIFT_KEEP_ALIVE",
        "max_connections": "THEMESIFT_MAX_CONNECTIONS",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """Read the THEMESIFT_* variables; a bad one raises ``ServeConfigError`` naming it."""
        env = os.environ if environ is None else environ
        d, values = cls(), {}
        for f in fields(cls):
            default = getattr(d, f.name)
            cast = int if isinstance(default, int) else float
            values[f.name] = _env(
                env, cls.ENV[f.name], default, cast, 0 if f.name == "max_queue" else (1 if cast is int else 0.001)
            )
        return cls(**values)


DEFAULT_BATCH_MS = 10.0  # on: measured faster (benchmarks/results/http_load_batching.json)
# texts one merged predict call may hold: in-process, 256-text calls cost about 20 % more CPU per
# comment than one 2,400-text call, 1,024-text calls about 5 % (the encoder pads less when it can
# sort more texts by length); the queue bound (THEMESIFT_MAX_QUEUE) keeps a merge within reach
MERGED_TEXTS = 1024


def batch_ms_from_env(environ: dict[str, str] | None = None) -> float:
    """THEMESIFT_BATCH_MS: the micro-batching window in ms; 0 turns it off."""
    return _env(os.environ if environ is None else environ, "THEMESIFT_BATCH_MS", DEFAULT_BATCH_MS, float, 0)


class _ModelState:
    """The model, loaded once (in the background for one worker, so /healthz answers at once)."""

    def __init__(self, model: ModelLike):
        self.source, self.clf, self.info, self.ref, self.error = model, None, None, None, None
        self.ready = threading.Event()

    def load(self) -> None:
        started = time.perf_counter()
        try:
            if isinstance(self.source, ThemeClassifier):
                clf, path = self.source, None
            else:
                path = default_model_path() if self.source in (None, "default") else Path(self.source)
                clf = load_model(path)
            predict(["warm-up comment"], clf)  # first call pays lazy initialisation, not a client
            self.info = describe_model(clf, path)
            self.ref = {k: self.info[k] for k in ("family", "version", "data_hash", "trained_at")}
            self.clf = clf
            self.ready.set()
            log.info(
                "model ready: %s (pid %d, %.1f s)", self.ref["version"], os.getpid(), time.perf_counter() - started
            )
        except Exception as exc:  # reported by /readyz; the process stays up for diagnosis
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("model failed to load")

    def require(self) -> ThemeClassifier:
        if self.clf is None:
            raise ApiError(
                503,
                "model_not_ready",
                self.error or "model is still loading",
                headers={} if self.error else {"Retry-After": "5"},
            )
        return self.clf


def _json_error(status: int, code: str, message: str, headers: dict | None = None, **extra: Any) -> Response:
    return Response(
        error_bytes(code, message, **extra), status_code=status, media_type="application/json", headers=headers
    )


def _check_request(req: ClassifyRequest, limits: Limits) -> None:
    if len(req.texts) > limits.max_texts:
        raise ApiError(
            422,
            "too_many_texts",
            f"{len(req.texts)} texts; the limit is {limits.max_texts} per request",
            limit=limits.max_texts,
        )
    total = 0
    for i, text in enumerate(req.texts):
        if isinstance(text, str):
            if len(text) > limits.max_chars:
                raise ApiError(
                    422,
                    "text_too_long",
                    f"text #{i} has {len(text)} characters; the limit is {limits.max_chars}",
                    limit=limits.max_chars,
                    index=i,
                )
            total += len(text)
    cost = total * (limits.evidence_cost if req.evidence else 1)
    if cost > limits.max_request_chars:
        how = f" (x{limits.evidence_cost} with evidence = {cost})" if req.evidence else ""
        raise ApiError(
            413,
            "request_too_costly",
            f"the texts hold {total} characters{how}; the limit is "
            f"{limits.max_request_chars} per request: send fewer or shorter texts per request",
            limit=limits.max_request_chars,
        )
    if isinstance(req.audience, list) and len(req.audience) != len(req.texts):
        raise ApiError(
            422,
            "audience_mismatch",
            f"{len(req.audience)} audiences for {len(req.texts)} texts: give one audience for all, or one per text",
        )


def create_app(
    model: ModelLike = None,
    limits: Limits | None = None,
    *,
    batch_ms: float | None = None,
    api_key: str | None = None,
    load_before_serving: bool = False,
) -> FastAPI:
    """The ASGI app; ``model`` is a model object, an artifact directory, or None for the default.

    ``api_key`` None reads ``THEMESIFT_API_KEY`` ("" = no key). ``load_before_serving`` loads the
    model during start-up, so a worker accepts no connection before it is ready (several workers).
    """
    limits = limits or Limits.from_env()
    batch_ms = batch_ms_from_env() if batch_ms is None else batch_ms
    api_key = os.environ.get(API_KEY_ENV, "") if api_key is None else api_key
    state = _ModelState(model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if load_before_serving:
            import anyio.to_thread

            await anyio.to_thread.run_sync(state.load)
        else:
            threading.Thread(target=state.load, name="themesift-model-load", daemon=True).start()
        yield

    app = FastAPI(
        title="themesift",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Themes and their polarity for open-text comments. Limits: "
        f"{limits.max_texts} texts, {limits.max_chars} characters per text, "
        f"{limits.max_request_chars} characters per request (evidence: x"
        f"{limits.evidence_cost}), {limits.max_body_bytes} bytes per body."
        + (" Authorization: Bearer key." if api_key else ""),
    )
    app.state.themesift = state
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, timeout_s=limits.body_timeout_s)
    if api_key:
        app.add_middleware(ApiKeyAuth, key=api_key)
    app.add_middleware(RequestLog)  # outermost: every answer, 401 and 413 included, has an id and a log line
    gate = InferenceGate(limits.max_inflight, limits.max_queue, limits.queue_timeout_s)

    def run_predict(texts: list, evidence: bool, audiences: list | str = "auto") -> list[dict]:
        return predict(texts, state.require(), evidence=evidence, max_chars=limits.max_chars, audience=audiences)

    merged = max(MERGED_TEXTS, limits.max_texts)
    batcher = MicroBatcher(run_predict, wait_ms=batch_ms, max_texts=merged) if batch_ms > 0 else None

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _json_error(
            exc.status,
            exc.body["code"],
            exc.body["message"],
            exc.headers,
            **{k: v for k, v in exc.body.items() if k not in ("code", "message")},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in errors):
            return _json_error(400, "malformed_json", "request body is not valid JSON", details=errors)
        if "json" not in request.headers.get("content-type", ""):
            return _json_error(
                415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
            )
        return _json_error(422, "invalid_request", "request does not match the schema", details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # the body failed to parse before validation: bad UTF-8, too deep, huge number
            return _json_error(
                400,
                "malformed_json",
                "request body is not valid JSON (invalid UTF-8, nesting too deep or a number too long)",
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json_error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error (request_id=%s)", request_id(request.scope))
        return _json_error(500, "internal_error", "internal server error", request_id=request_id(request.scope))

    errors = {s: {"model": ErrorResponse} for s in (400, 401, 408, 413, 415, 422, 503)}

    @app.post(
        "/v1/classify",
        response_model=ClassifyResponse,
        response_model_exclude_unset=True,
        responses=errors,
        summary="Themes and polarity for each text, in input order",
    )
    async def classify(req: ClassifyRequest, request: Request) -> Any:
        state.require()
        request.scope.setdefault("state", {})["texts"] = len(req.texts)
        _check_request(req, limits)
        texts = req.texts
        audiences = req.audience
        gate.admit()
        try:
            if batcher is not None:
                per_text = audiences if isinstance(audiences, list) else [audiences] * len(texts)
                results = await batcher.submit(texts, req.evidence, per_text)
            else:
                results = await gate.run(run_predict, texts, req.evidence, audiences)
        finally:
            gate.leave()
        return {"results": results, "model": state.ref}

    @app.get(
        "/v1/model", response_model=ModelInfo, responses={401: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}
    )
    async def model_info() -> Any:
        state.require()
        return state.info

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Any:
        return {"status": "ok"}

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    async def readyz() -> Any:
        if state.ready.is_set():
            return {"status": "ready"}
        status = "failed" if state.error else "loading"
        return _json_response({"status": status, "detail": state.error}, 503)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    return app


def _json_response(body: dict, status: int) -> Response:
    import json

    return Response(json.dumps(body), status_code=status, media_type="application/json")


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (one per worker process): model path from THEMESIFT_MODEL;
    the model loads before the worker accepts connections, so /readyz never answers 'loading'
    from one worker while another is ready."""
    limits = Limits.from_env()
    GuardedH11Protocol.header_timeout_s = limits.header_timeout_s
    return create_app(os.environ.get(MODEL_ENV) or None, limits, load_before_serving=True)


def log_config() -> dict:
    """uvicorn's logging plus the themesift loggers (model ready, access lines) on stderr."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["themesift"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["themesift"] = {
        "class": "logging.StreamHandler",
        "formatter": "themesift",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["themesift"] = {"handlers": ["themesift"], "level": "INFO", "propagate": False}
    return config


def run_server(model: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted. With several workers each process loads the model once, before
    it accepts connections. Bad settings raise ``ServeConfigError`` before anything starts."""
    import uvicorn

    if not 0 <= port <= 65535:
        raise ServeConfigError(f"--port must be between 0 and 65535, got {port}")
    if workers < 1:
        raise ServeConfigError(f"--workers must be at least 1, got {workers}")
    limits = Limits.from_env()  # fail now, with one line, not in every worker
    batch_ms_from_env()
    # fail now, not as a server that never becomes ready
    path = default_model_path() if model in (None, "default") else Path(model).expanduser()
    model = str(artifact.check_artifact_dir(path).resolve())
    if not os.environ.get(API_KEY_ENV) and host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("themesift.serve.http").warning("serving on %s without THEMESIFT_API_KEY", host)
    GuardedH11Protocol.header_timeout_s = limits.header_timeout_s
    server = dict(
        host=host,
        port=port,
        http=GuardedH11Protocol,
        log_config=log_config(),
        access_log=False,
        timeout_keep_alive=limits.keep_alive_s,
        limit_concurrency=limits.max_connections,
    )
    if workers <= 1:
        uvicorn.run(create_app(model, limits), **server)
        return
    os.environ[MODEL_ENV] = model
    # N processes on the same cores: split the cores rather than letting each grab them all
    from themesift.models.encoder import usable_cores

    os.environ.setdefault("THEMESIFT_THREADS", str(max(1, usable_cores() // workers)))
    uvicorn.run("themesift.serve.http:app_from_env", factory=True, workers=workers, **server)
