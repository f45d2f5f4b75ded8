"""What stands between the network and ``predict`` in the HTTP service: ASGI middleware for
request ids and access logs, the optional API key and the request-body limit and deadline;
the admission gate (bounded concurrent inferences, 503 + Retry-After beyond); and an h11
protocol that closes connections whose request headers do not arrive in time (slowloris).

Kept apart from ``themesift.serve.http`` (routes and configuration) so each piece stays small.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
import uuid
from typing import Any

import anyio
from uvicorn.protocols.http.h11_impl import H11Protocol

access_log = logging.getLogger("themesift.serve.access")
REQUEST_ID = "x-request-id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ApiError(Exception):
    """A client-visible error: status, stable code, message (and extra fields, headers)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"code": code, "message": message, **extra}


def error_bytes(code: str, message: str, **extra: Any) -> bytes:
    """The JSON error body. ASCII-escaped: a lone surrogate echoed from the input cannot break it."""
    return json.dumps({"error": {"code": code, "message": message, **extra}}, ensure_ascii=True).encode()


async def send_error(
    send: Any, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> None:
    body = error_bytes(code, message, **extra)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def request_id(scope: dict) -> str:
    """The id of the request in ``scope`` (set by ``RequestLog``), for log lines."""
    return scope.get("state", {}).get("request_id", "-")


class RequestLog:
    """Outermost middleware: takes ``X-Request-ID`` from the request (when it is a short safe
    token) or makes one, echoes it in the response, and writes one access-log line per request
    with status, latency, response bytes and, for classify, the number of texts."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(REQUEST_ID.encode(), b"").decode("latin-1")
        rid = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started, seen = time.perf_counter(), {"status": 500, "bytes": 0}

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (REQUEST_ID.encode(), rid.encode())]}
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client") or ("-", 0)
            texts = state.get("texts")
            access_log.info(
                '%s "%s %s" %d %.1f ms %d B%s request_id=%s',
                client[0],
                scope["method"],
                scope["path"],
                seen["status"],
                1000 * (time.perf_counter() - started),
                seen["bytes"],
                f" texts={texts}" if texts is not None else "",
                rid,
            )


class ApiKeyAuth:
    """With a key set, every path except the open ones needs ``Authorization: Bearer KEY``
    (compared in constant time); checked before the body is read."""

    OPEN = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json"})

    def __init__(self, app: Any, key: str):
        self.app, self.key = app, key.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.OPEN:
            return await self.app(scope, receive, send)
        scheme, _, token = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key):
            return await self.app(scope, receive, send)
        await send_error(
            send,
            401,
            "unauthorized",
            "missing or wrong API key: send 'Authorization: Bearer <key>' "
            "(the key the server has in THEMESIFT_API_KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )


class BodyLimit:
    """Refuse bodies over ``max_bytes`` without reading more than that, and bodies that do not
    arrive within ``timeout_s`` (a slow sender holds no worker, but must not hold a socket forever)."""

    def __init__(self, app: Any, max_bytes: int, timeout_s: float):
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(send)
        chunks, size = [], 0
        with anyio.move_on_after(self.timeout_s) as deadline:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # client went away
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_bytes:
                    return await self._too_large(send)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            return await send_error(
                send,
                408,
                "body_timeout",
                f"the request body did not arrive within {self.timeout_s:g} s",
                headers={"Connection": "close"},
            )
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Any) -> None:
        await send_error(
            send,
            413,
            "body_too_large",
            f"request body is over the limit of {self.max_bytes} bytes",
            headers={"Connection": "close"},
            limit=self.max_bytes,
        )


class InferenceGate:
    """Back-pressure: at most ``max_inflight`` inferences run at once and at most ``max_queue``
    more wait, each for at most ``timeout_s``; beyond that a request gets 503 ``overloaded``
    with ``Retry-After`` at once, so memory and latency stay bounded however many clients come."""

    def __init__(self, max_inflight: int, max_queue: int, timeout_s: float, retry_after_s: int = 1):
        self.max_inflight, self.max_queue, self.timeout_s = max_inflight, max_queue, timeout_s
        self.retry_after = str(retry_after_s)
        self._slots = asyncio.Semaphore(max_inflight)
        self.admitted = 0  # running + waiting

    def _overloaded(self, why: str) -> ApiError:
        return ApiError(
            503,
            "overloaded",
            f"the server is busy ({why}); retry after {self.retry_after} s",
            headers={"Retry-After": self.retry_after},
        )

    def admit(self) -> None:
        """Count a request in, or refuse it when running + waiting is full."""
        if self.admitted >= self.max_inflight + self.max_queue:
            raise self._overloaded(f"{self.max_inflight} inferences running and {self.max_queue} waiting")
        self.admitted += 1

    def leave(self) -> None:
        self.admitted -= 1

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` in a worker thread once a slot is free (admitted requests only)."""
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout_s)
        except asyncio.TimeoutError:
            raise self._overloaded(f"no inference slot within {self.timeout_s:g} s") from None
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        finally:
            self._slots.release()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a header deadline: a connection that has not delivered a
    complete request head within ``header_timeout_s`` of opening (or of its last response) is
    closed. uvicorn alone waits forever for a half-sent head (slowloris)."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_head_timer", None) is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_deadline)

    def _head_deadline(self) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_head and not self.transport.is_closing():
            self.transport.close()
