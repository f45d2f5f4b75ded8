"""The HTTP API, served for real: `themesift serve` in a subprocess (and uvicorn in a thread
for create_app options), spoken to over loopback with httpx; answers must equal predict()."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from themesift.serve.batcher import MicroBatcher
from themesift.serve.http import Limits, create_app
from themesift.serve.predict import default_model_path, load_model, predict

LIMITS = {
    "THEMESIFT_MAX_TEXTS": "16",
    "THEMESIFT_MAX_CHARS": "2000",
    "THEMESIFT_MAX_BODY_BYTES": "50000",
    "THEMESIFT_MAX_REQUEST_CHARS": "6000",
    "THEMESIFT_HEADER_TIMEOUT": "2",
    "THEMESIFT_BODY_TIMEOUT": "2",
    "THEMESIFT_MAX_CONNECTIONS": "24",
}
ODD = ["", None, 7, "   "]  # flagged per text, never rejected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 180, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text() if log else ''}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base} not ready after {timeout} s")


def server_log(model_dir: Path, base: str) -> Path:
    return model_dir.parent / f"server-{base.rsplit(':', 1)[1]}.log"


@contextmanager
def cli_server(model_dir: Path, *extra: str, env: dict | None = None, model: Path | None = None):
    """`python -m themesift.cli serve` on a free loopback port, limits from the environment."""
    port = free_port()
    env = {**os.environ, **LIMITS, "THEMESIFT_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    log = model_dir.parent / f"server-{port}.log"
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "themesift.cli",
                "serve",
                "--model",
                str(model or model_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *extra,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc=proc, log=log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def thread_server(app):
    """The same app object served by a real uvicorn in a background thread."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, gold_train, gold_dev) -> Path:
    """A real tfidf artifact with the taxonomy and a metrics.json shaped like training writes it."""
    from themesift.models.labels import LabelSpace
    from themesift.models.registry import make_model
    from themesift.models.taxonomy import load_taxonomy
    from themesift.training.evaluate import evaluate_label_sets

    taxonomy, rows, dev = load_taxonomy(), gold_train[:800], gold_dev[:150]
    model = make_model("tfidf", max_iter=300).fit(
        [r["text"] for r in rows], [r["labels"] for r in rows], label_space=LabelSpace(taxonomy.ids)
    )
    metrics = {
        "family": "tfidf",
        "trained_at": "2025-01-01T00:00:00Z",
        "data": {
            "train": {"rows": len(rows), "hash": "sha256:test-train-hash", "path": "/home/hr/exports/train-2025.jsonl"},
            "dev": {"rows": len(dev), "source": "file /home/hr/exports/dev.jsonl"},
        },
        "dev": evaluate_label_sets(
            [r["labels"] for r in dev], model.predict([r["text"] for r in dev]), themes=taxonomy.ids
        ),
    }
    return model.save(tmp_path_factory.mktemp("http_model") / "model", taxonomy=taxonomy, metrics=metrics)


@pytest.fixture(scope="module")
def server(model_dir):
    with cli_server(model_dir) as base:
        yield base


@pytest.fixture(scope="module")
def texts(gold_dev) -> list[str]:
    return [r["text"] for r in gold_dev[:60]]


def classify(base: str, texts: list, evidence: bool = False) -> httpx.Response:
    return httpx.post(f"{base}/v1/classify", json={"texts": texts, "evidence": evidence}, timeout=60)


def test_health_ready_and_docs(server):
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok", "detail": None}
    assert httpx.get(f"{server}/readyz").status_code == 200
    docs = httpx.get(f"{server}/docs")
    assert docs.status_code == 200 and "/v1/classify" in docs.text and "/openapi.json" in docs.text
    assert "<script" not in docs.text.lower() and "cdn" not in docs.text.lower()  # offline: nothing fetched
    assert httpx.get(f"{server}/redoc").status_code == 404
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"ClassifyRequest", "ClassifyResponse", "ModelInfo", "ErrorResponse"} <= set(schema["components"]["schemas"])


def test_classify_equals_predict_including_odd_items(server, model_dir, texts):
    batch = texts[:12] + ODD
    response = classify(server, batch)
    assert response.status_code == 200
    assert response.json()["results"] == predict(batch, model_dir)
    flagged = response.json()["results"][12:]
    assert [r["error"] for r in flagged] == ["empty comment", "empty comment", "not text: int comment", "empty comment"]
    assert any(r["labels"] for r in response.json()["results"][:12])  # the model does find themes


def test_evidence_equals_predict(server, model_dir, texts):
    batch = [t for t in texts if "." in t.strip()[:-1]][:4]
    response = classify(server, batch, evidence=True)
    assert response.status_code == 200
    expected = predict(batch, model_dir, evidence=True)
    assert response.json()["results"] == expected
    assert any(theme["evidence"] for r in expected for theme in r["themes"])


def test_empty_list(server):
    response = classify(server, [])
    assert response.status_code == 200 and response.json()["results"] == []


def test_model_info_matches_artifact(server, model_dir):
    info = httpx.get(f"{server}/v1/model").json()
    metrics = json.loads((model_dir / "metrics.json").read_text())
    taxonomy = json.loads((model_dir / "taxonomy.json").read_text())
    assert info["family"] == "tfidf" and info["params"]["max_iter"] == 300
    assert info["data_hash"] == metrics["data"]["train"]["hash"]
    assert info["metrics"]["dev"]["theme"]["micro"] == metrics["dev"]["theme"]["micro"]
    assert info["taxonomy_version"] == taxonomy["version"]
    names = {t["id"]: t["name"] for t in taxonomy["themes"]}
    assert {t["id"]: t["name"] for t in info["themes"]} == names
    audiences = {t["id"]: t.get("audience") for t in taxonomy["themes"]}
    assert {t["id"]: t.get("audience") for t in info["themes"]} == audiences
    assert audiences["pay_benefits"] == "employee" and audiences["price_value"] == "customer"
    assert set(info["thresholds"]) == set(names)
    assert "/home/hr" not in httpx.get(f"{server}/v1/model").text  # no local paths (training files)
    assert info["data"]["train"] == {"rows": 800, "hash": "sha256:test-train-hash"}
    ref = classify(server, ["Pay is low."]).json()["model"]
    assert ref["version"] == info["version"] and ref["version"].startswith("tfidf-")
    assert ref["data_hash"] == info["data_hash"]


@pytest.mark.parametrize(
    "case, status, code, limit",
    [
        ("too_many", 422, "too_many_texts", 16),
        ("too_long", 422, "text_too_long", 2000),
        ("big_declared", 413, "body_too_large", 50000),
        ("big_streamed", 413, "body_too_large", 50000),
    ],
)
def test_limits_give_json_errors(server, case, status, code, limit):
    url = f"{server}/v1/classify"
    if case == "too_many":
        response = classify(server, ["good pay"] * 17)
    elif case == "too_long":
        response = classify(server, ["fine", "x" * 2001])
        assert response.json()["error"]["index"] == 1
    elif case == "big_declared":  # Content-Length over the limit: refused before reading
        response = httpx.post(url, json={"texts": ["pay " * 500] * 30}, timeout=30)
    else:  # chunked, no Content-Length: refused once the streamed bytes pass the limit
        chunks = (b'{"texts": ["' if i == 0 else b"x" * 1000 for i in range(80))
        response = httpx.post(url, content=chunks, headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["limit"] == limit and str(limit) in error["message"]


def test_server_survives_limits(server):
    assert classify(server, ["Pay is good."]).status_code == 200


@pytest.mark.parametrize(
    "body, headers, status, code",
    [
        (b'{"texts": ["a",', {"content-type": "application/json"}, 400, "malformed_json"),
        (b'{"texts": "not a list"}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"texts": ["a"], "evidence": "maybe"}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"txts": ["a"]}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"texts": ["a"]}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_requests_are_json_4xx(server, body, headers, status, code):
    response = httpx.post(f"{server}/v1/classify", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_unknown_route_is_json_404(server):
    response = httpx.get(f"{server}/v2/nothing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def _concurrent(base: str, texts: list[str], model_dir: Path) -> None:
    """8 clients × 5 requests of different texts; every answer equals predict on that request."""
    jobs = [texts[(k * 3) % 50 : (k * 3) % 50 + 1 + k % 7] for k in range(40)]

    def call(batch):
        with httpx.Client(timeout=120) as client:
            return client.post(f"{base}/v1/classify", json={"texts": batch})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(call, jobs))
    assert [r.status_code for r in responses] == [200] * len(jobs)
    for batch, response in zip(jobs, responses):
        assert response.json()["results"] == predict(batch, model_dir)


def test_concurrent_clients(server, model_dir, texts):
    _concurrent(server, texts, model_dir)


def test_micro_batching_gives_the_same_answers(model_dir, texts):
    with thread_server(create_app(model_dir, batch_ms=5)) as base:
        wait_ready(base)
        _concurrent(base, texts, model_dir)


def test_create_app_with_model_object_and_limits(model_dir):
    app = create_app(load_model(model_dir), Limits(max_texts=2, max_chars=10, max_body_bytes=300))
    with thread_server(app) as base:
        wait_ready(base)
        assert classify(base, ["good pay", "bad boss"]).json()["model"]["version"] == "tfidf-unsaved"
        assert classify(base, ["a", "b", "c"]).json()["error"] == {
            "code": "too_many_texts",
            "message": "3 texts; the limit is 2 per request",
            "limit": 2,
        }
        assert classify(base, ["x" * 11]).json()["error"]["code"] == "text_too_long"
        assert classify(base, ["x" * 10] * 2).status_code == 200
        assert httpx.post(f"{base}/v1/classify", content=b"x" * 301).status_code == 413


def test_not_ready_until_model_loads(tmp_path):
    with thread_server(create_app(tmp_path / "no-model-here")) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        deadline = time.time() + 30
        while httpx.get(f"{base}/readyz").json()["status"] == "loading" and time.time() < deadline:
            time.sleep(0.05)
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503 and "model directory not found" in ready.json()["detail"]
        response = classify(base, ["good pay"])
        assert response.status_code == 503 and response.json()["error"]["code"] == "model_not_ready"


def test_limits_from_env():
    assert Limits() == Limits(max_texts=256, max_chars=20_000, max_body_bytes=2_000_000)
    assert Limits.from_env({}) == Limits()
    assert Limits.from_env(LIMITS) == Limits(
        16, 2000, 50000, max_request_chars=6000, header_timeout_s=2, body_timeout_s=2, max_connections=24
    )


@pytest.mark.slow
def test_cli_with_two_workers(model_dir, texts):
    """--workers 2 uses uvicorn's factory mode: each worker loads the model from THEMESIFT_MODEL."""
    with cli_server(model_dir, "--workers", "2") as base:
        ok = 0
        while ok < 10:  # ten ready answers in a row: both workers have loaded
            ok = ok + 1 if httpx.get(f"{base}/readyz").status_code == 200 else 0
        for batch in (texts[:5], texts[5:9]):
            response = classify(base, batch)
            assert response.status_code == 200 and response.json()["results"] == predict(batch, model_dir)


# --- hostile input (issue #20): each test below failed on the code before the fix ---------------


def post_raw(base: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/classify", content=body, headers={"content-type": "application/json", **headers}, timeout=60
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"texts": ["caf\xe9 pay"]}',  # invalid UTF-8
        b'{"texts": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # 5,000-deep nesting
        b'{"texts": ["a"], "evidence": ' + b"9" * 40_000 + b"}",  # 40k digits (100k is over this server's body limit)
    ],
)
def test_unparseable_bodies_are_malformed_json(server, body):
    response = post_raw(server, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', "0"])
def test_evidence_must_be_a_json_bool(server, value):
    response = post_raw(server, b'{"texts": ["pay is low"], "evidence": ' + value.encode() + b"}")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_request_cost_cap_counts_evidence(server, texts):
    """6,000 characters per request (test setting); with evidence each counts 4 times."""
    batch = ["The pay is low and my manager never listens. " * 22] * 4  # 4 × 990 = 3,960 characters
    assert classify(server, batch).status_code == 200
    response = classify(server, batch, evidence=True)  # 15,840 > 6,000
    error = response.json()["error"]
    assert response.status_code == 413 and error["code"] == "request_too_costly" and error["limit"] == 6000
    assert "3960 characters" in error["message"] and "x4" in error["message"]


def test_request_id_echoed_and_logged(server, model_dir):
    given = httpx.post(
        f"{server}/v1/classify", json={"texts": ["Pay is low."]}, headers={"X-Request-ID": "client-id-42"}, timeout=60
    )
    assert given.status_code == 200 and given.headers["x-request-id"] == "client-id-42"
    made = httpx.get(f"{server}/v2/nothing", headers={"X-Request-ID": "bad id\twith spaces" * 20})
    assert made.status_code == 404 and len(made.headers["x-request-id"]) == 32  # unsafe id replaced
    deadline = time.time() + 10
    while time.time() < deadline:
        log = server_log(model_dir, server).read_text()
        if made.headers["x-request-id"] in log:
            break
        time.sleep(0.2)
    lines = [line for line in log.splitlines() if "request_id=client-id-42" in line]
    assert len(lines) == 1 and '"POST /v1/classify" 200' in lines[0] and " ms " in lines[0] and "texts=1" in lines[0]
    assert f"request_id={made.headers['x-request-id']}" in log
    assert log.count("model ready: tfidf-") == 1


def test_slow_header_and_body_are_cut_off(server):
    """Header and body deadlines are 2 s here; a slowloris connection must not stay open."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as head, socket.create_connection((host, int(port))) as body:
        head.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        body.sendall(
            b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )  # 1 of 100 body bytes
        head.settimeout(8)
        body.settimeout(8)
        t0 = time.time()
        assert head.recv(1024) == b""  # closed by the server
        assert time.time() - t0 < 6
        reply = b""
        while chunk := body.recv(4096):  # the server answers, then closes
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 408") and b"body_timeout" in reply
    assert classify(server, ["Pay is good."]).status_code == 200


def test_connection_cap_then_recovers(server):
    """Over THEMESIFT_MAX_CONNECTIONS (24 here) idle connections → 503; the header deadline frees them."""
    host, port = server.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(26)]
    try:
        time.sleep(0.3)
        assert classify(server, ["Pay is good."]).status_code == 503
    finally:
        time.sleep(2.5)  # past the 2 s header deadline: the server has closed them
        for sock in idle:
            sock.close()
    assert classify(server, ["Pay is good."]).status_code == 200


@pytest.mark.parametrize("batch_ms", [0, 10])
def test_back_pressure_503_with_retry_after(model_dir, texts, batch_ms):
    """One inference at a time and none waiting: concurrent requests beyond it get 503 at once
    (per-request predict and micro-batching alike)."""
    app = create_app(model_dir, Limits(max_inflight=1, max_queue=0, max_texts=256), api_key="", batch_ms=batch_ms)
    batch = (texts * 5)[:256]
    with thread_server(app) as base:
        wait_ready(base)
        with ThreadPoolExecutor(10) as pool:
            responses = list(pool.map(lambda _: classify(base, batch, evidence=True), range(10)))
    busy = [r for r in responses if r.status_code == 503]
    assert busy and all(r.json()["error"]["code"] == "overloaded" and r.headers["retry-after"] == "1" for r in busy)
    done = [r for r in responses if r.status_code == 200]
    assert done and len(busy) + len(done) == 10
    assert done[0].json()["results"] == predict(batch, model_dir, evidence=True)


def test_api_key(model_dir, monkeypatch):
    monkeypatch.setenv("THEMESIFT_API_KEY", "s3cret-key")
    with thread_server(create_app(model_dir)) as base:
        wait_ready(base)  # /readyz and /healthz stay open
        assert httpx.get(f"{base}/healthz").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}):
            response = httpx.post(f"{base}/v1/classify", json={"texts": ["pay"]}, headers=headers)
            assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer" and "x-request-id" in response.headers
        assert httpx.get(f"{base}/v1/model").status_code == 401
        good = {"Authorization": "Bearer s3cret-key"}
        assert httpx.post(f"{base}/v1/classify", json={"texts": ["pay"]}, headers=good).status_code == 200
        assert httpx.get(f"{base}/v1/model", headers=good).status_code == 200


def test_micro_batcher_isolates_a_failing_request(model_dir, texts):
    """A request whose predict fails (whatever the cause) fails alone; the rest of its batch succeeds."""
    clf = load_model(model_dir)

    def fragile_predict(batch, evidence, audiences):
        if "POISON" in batch:
            raise RuntimeError("cannot classify POISON")
        return predict(batch, clf, evidence=evidence, audience=audiences)

    async def run():
        batcher = MicroBatcher(fragile_predict, wait_ms=50)
        jobs = [texts[:3], ["POISON", "fine"], texts[3:5], texts[5:9]]
        return jobs, await asyncio.gather(*(batcher.submit(job, False) for job in jobs), return_exceptions=True)

    jobs, outcomes = asyncio.run(run())
    assert isinstance(outcomes[1], RuntimeError)
    for k in (0, 2, 3):
        assert outcomes[k] == predict(jobs[k], clf)


@pytest.fixture(scope="module")
def batching_default_server(tmp_path_factory):
    """The shipped default model (its tokenizer is what rejects lone surrogates), micro-batching on."""
    with cli_server(
        tmp_path_factory.mktemp("default") / "model-ref", env={"THEMESIFT_BATCH_MS": "200"}, model=default_model_path()
    ) as base:
        yield base


def test_lone_surrogate_alone_is_replaced_and_flagged(batching_default_server):
    response = post_raw(batching_default_server, b'{"texts": ["\\ud800 pay is far too low", "ok"]}')
    assert response.status_code == 200
    expected = predict(["\ud800 pay is far too low", "ok"])  # predict replaces it, one character for one
    assert (
        "surrogate" in expected[0]["warning"]
        and expected[0]["labels"] == predict(["\ufffd pay is far too low"])[0]["labels"]
    )
    assert response.json()["results"] == expected


def test_lone_surrogate_does_not_break_its_batch(batching_default_server, texts):
    """Probe H50: with micro-batching, one '\\ud800' request made every request of its batch a 500."""
    bodies = [json.dumps({"texts": texts[k : k + 2]}).encode() for k in range(0, 10, 2)]
    bodies.insert(2, b'{"texts": ["\\ud800"]}')
    with ThreadPoolExecutor(len(bodies)) as pool:
        responses = list(pool.map(lambda body: post_raw(batching_default_server, body), bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    assert "surrogate" in responses[2].json()["results"][0]["warning"]
    for body, response in zip(bodies, responses):
        assert len(response.json()["results"]) == len(json.loads(body)["texts"])


@pytest.mark.parametrize(
    "argv, env, needle",
    [
        (["--port", "99999"], {}, "--port must be between 0 and 65535, got 99999"),
        ([], {"THEMESIFT_MAX_TEXTS": "abc"}, "THEMESIFT_MAX_TEXTS must be an integer >= 1, got 'abc'"),
        ([], {"THEMESIFT_MAX_TEXTS": "-1"}, "THEMESIFT_MAX_TEXTS must be an integer >= 1, got '-1'"),
        ([], {"THEMESIFT_BATCH_MS": "soon"}, "THEMESIFT_BATCH_MS must be a number >= 0, got 'soon'"),
    ],
)
def test_bad_serve_settings_are_one_line(model_dir, argv, env, needle):
    done = subprocess.run(
        [sys.executable, "-m", "themesift.cli", "serve", "--model", str(model_dir), *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"themesift serve: error: {needle}"]


@pytest.mark.slow
def test_two_workers_ready_means_ready():
    """--workers 2 with the default model: once /readyz says ready it never says loading again
    (each worker loads before it accepts); probe H56 saw 200/503 alternate."""
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_dir / f"w2-{port}.log", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "themesift.cli", "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, seen = time.time() + 300, []
        while time.time() < deadline and seen.count(200) < 40:
            try:
                seen.append(httpx.get(f"{base}/readyz", timeout=30).status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        first = seen.index(200)
        assert seen[first:] == [200] * len(seen[first:])
    finally:
        proc.terminate()
        proc.wait(60)
