"""HTTP API over ``predict`` (FastAPI + uvicorn), for other services.

Endpoints: ``POST /v1/classify`` ({"texts": [...], "evidence": false} → one result per
text, exactly what ``predict()`` returns, plus which model answered), ``GET /v1/model``
(themes, family, params, training-data hash, metrics summary), ``GET /healthz`` (alive:
always 200), ``GET /readyz`` (503 until the model has loaded in the background, then 200)
and the OpenAPI docs at ``/docs``.

Limits (``Limits``; ``create_app(limits=...)`` or environment variables read at start-up):

- ``THEMESIFT_MAX_TEXTS`` (default 256): texts per request; more → 422 ``too_many_texts``.
- ``THEMESIFT_MAX_CHARS`` (default 20000): characters per text; longer → 422 ``text_too_long``.
- ``THEMESIFT_MAX_BODY_BYTES`` (default 2000000): request body; larger → 413 ``body_too_large``,
  checked on Content-Length and on the bytes actually streamed, before the body is parsed.

Every error is JSON: ``{"error": {"code", "message", "limit"?, "index"?}}``; malformed JSON
is 400 ``malformed_json``. Non-string items in ``texts`` are not rejected: like ``predict``
they come back flagged in their result's ``error`` field.

Inference runs in a worker thread, off the event loop; by default each request is one
``predict`` call, so answers equal in-process ``predict`` on that request exactly.
``THEMESIFT_BATCH_MS`` > 0 switches on micro-batching (``serve/batcher.py``: requests that
arrive within that window share one ``predict`` call). It is off by default because it was
not faster with the default torch threading, and because a transformer's scores depend very
slightly on batch composition (padding): 1 of 640 results differed in a score's 4th decimal
between batches of 16 and 128. Measured with ``benchmarks/http_load.py`` (16 pool comments
per request, 8 concurrent clients, one server worker, 2 CPU cores shared with other jobs, so
noisy; LoRA MiniLM finetune model; comments/s, mean of paired runs):

    torch threads  per-request predict            micro-batching, 5 ms
    2 (default)    11.5 (6 runs: 9.8 .. 15.3)     9.2 (6 runs: 6.7 .. 13.4)
    1              14.3 (4 runs: 11.2 .. 17.2)    17.2 (4 runs: 13.8 .. 20.6), p95 9-11 s vs 13-20 s

One ``predict`` at a time without batching was slowest (5.1). On a busy small machine
``THEMESIFT_THREADS=1 THEMESIFT_BATCH_MS=5`` is the fastest setting measured.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.serve.batcher import MicroBatcher
from themesift.serve.http_models import (ClassifyRequest, ClassifyResponse, ErrorResponse, Health,
                                         ModelInfo, describe_model)
from themesift.serve.predict import ModelLike, default_model_path, load_model, predict

log = logging.getLogger("themesift.serve.http")
MODEL_ENV = "THEMESIFT_MODEL"


@dataclass(frozen=True)
class Limits:
    """Per-request limits; a request over one gets a 4xx naming it, never a 500."""

    max_texts: int = 256
    max_chars: int = 20_000
    max_body_bytes: int = 2_000_000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Limits":
        env = os.environ if environ is None else environ
        d = cls()
        return cls(max_texts=int(env.get("THEMESIFT_MAX_TEXTS", d.max_texts)),
                   max_chars=int(env.get("THEMESIFT_MAX_CHARS", d.max_chars)),
                   max_body_bytes=int(env.get("THEMESIFT_MAX_BODY_BYTES", d.max_body_bytes)))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.body = status, {"code": code, "message": message, **extra}


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


class BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` without reading more than that."""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: dict, receive: Any, send: Any) -> None:
        response = _error(413, "body_too_large", f"request body is over the limit of {self.max_bytes} bytes",
                          limit=self.max_bytes)
        await response(scope, receive, send)


class _ModelState:
    """The model, loaded once in a background thread so /healthz answers at once."""

    def __init__(self, model: ModelLike):
        self.source, self.clf, self.info, self.ref, self.error = model, None, None, None, None
        self.ready = threading.Event()

    def load(self) -> None:
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
            log.info("model ready: %s", self.ref["version"])
        except Exception as exc:  # reported by /readyz; the process stays up for diagnosis
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("model failed to load")

    def require(self) -> ThemeClassifier:
        if self.clf is None:
            raise ApiError(503, "model_not_ready", self.error or "model is still loading")
        return self.clf


def _batch_ms() -> float:
    return float(os.environ.get("THEMESIFT_BATCH_MS", "0") or 0)


def create_app(model: ModelLike = None, limits: Limits | None = None, *, batch_ms: float | None = None) -> FastAPI:
    """The ASGI app; ``model`` is a model object, an artifact directory, or None for the default."""
    limits = limits or Limits.from_env()
    batch_ms = _batch_ms() if batch_ms is None else batch_ms
    state = _ModelState(model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        threading.Thread(target=state.load, name="themesift-model-load", daemon=True).start()
        yield

    app = FastAPI(title="themesift", version="1", lifespan=lifespan,
                  description="Themes and their polarity for open-text comments. Limits: "
                              f"{limits.max_texts} texts, {limits.max_chars} characters per text, "
                              f"{limits.max_body_bytes} bytes per body.")
    app.state.themesift = state
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    def run_predict(texts: list, evidence: bool, audiences: list | str = "auto") -> list[dict]:
        return predict(texts, state.require(), evidence=evidence, max_chars=limits.max_chars, audience=audiences)

    batcher = MicroBatcher(run_predict, wait_ms=batch_ms, max_texts=limits.max_texts) if batch_ms > 0 else None

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.body}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "request body is not valid JSON", details=errors)
        if "json" not in request.headers.get("content-type", ""):
            return _error(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
        return _error(422, "invalid_request", "request does not match the schema", details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _error(500, "internal_error", "internal server error")

    errors = {s: {"model": ErrorResponse} for s in (400, 413, 415, 422, 503)}

    @app.post("/v1/classify", response_model=ClassifyResponse, response_model_exclude_unset=True,
              responses=errors, summary="Themes and polarity for each text, in input order")
    async def classify(req: ClassifyRequest) -> Any:
        state.require()
        if len(req.texts) > limits.max_texts:
            raise ApiError(422, "too_many_texts", f"{len(req.texts)} texts; the limit is {limits.max_texts} "
                           "per request", limit=limits.max_texts)
        for i, text in enumerate(req.texts):
            if isinstance(text, str) and len(text) > limits.max_chars:
                raise ApiError(422, "text_too_long", f"text #{i} has {len(text)} characters; the limit is "
                               f"{limits.max_chars}", limit=limits.max_chars, index=i)
        audiences = req.audience
        if isinstance(audiences, list) and len(audiences) != len(req.texts):
            raise ApiError(422, "audience_mismatch", f"{len(audiences)} audiences for {len(req.texts)} texts: give "
                           "one audience for all, or one per text")
        if batcher is not None:
            per_text = audiences if isinstance(audiences, list) else [audiences] * len(req.texts)
            results = await batcher.submit(req.texts, req.evidence, per_text)
        else:
            results = await anyio.to_thread.run_sync(run_predict, req.texts, req.evidence, audiences)
        return {"results": results, "model": state.ref}

    @app.get("/v1/model", response_model=ModelInfo, responses={503: {"model": ErrorResponse}})
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
        return JSONResponse({"status": status, "detail": state.error}, status_code=503)

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (one per worker process): model path from THEMESIFT_MODEL."""
    return create_app(os.environ.get(MODEL_ENV) or None)


def run_server(model: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted. With several workers each process loads the model once."""
    import uvicorn

    # fail now, not as a server that never becomes ready
    path = default_model_path() if model in (None, "default") else Path(model).expanduser()
    model = str(artifact.check_artifact_dir(path).resolve())
    if workers <= 1:
        uvicorn.run(create_app(model), host=host, port=port)
        return
    os.environ[MODEL_ENV] = model
    # N processes on the same cores: split the cores rather than letting each grab them all
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ.setdefault("THEMESIFT_THREADS", str(max(1, cores // workers)))
    uvicorn.run("themesift.serve.http:app_from_env", factory=True, host=host, port=port, workers=workers)
