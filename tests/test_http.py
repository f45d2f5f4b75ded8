"""The HTTP API, served for real: `themesift serve` in a subprocess (and uvicorn in a thread
for create_app options), spoken to over loopback with httpx; answers must equal predict()."""
from __future__ import annotations

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

from themesift.serve.http import Limits, create_app
from themesift.serve.predict import load_model, predict

LIMITS = {"THEMESIFT_MAX_TEXTS": "16", "THEMESIFT_MAX_CHARS": "2000", "THEMESIFT_MAX_BODY_BYTES": "50000"}
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


@contextmanager
def cli_server(model_dir: Path, *extra: str):
    """`python -m themesift.cli serve` on a free loopback port, limits from the environment."""
    port = free_port()
    env = {**os.environ, **LIMITS, "THEMESIFT_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    log = model_dir.parent / f"server-{port}.log"
    proc = subprocess.Popen([sys.executable, "-m", "themesift.cli", "serve", "--model", str(model_dir),
                             "--host", "127.0.0.1", "--port", str(port), *extra],
                            env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
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
    model = make_model("tfidf", max_iter=300).fit([r["text"] for r in rows], [r["labels"] for r in rows],
                                                  label_space=LabelSpace(taxonomy.ids))
    metrics = {"family": "tfidf", "trained_at": "2025-01-01T00:00:00Z",
               "data": {"train": {"rows": len(rows), "hash": "sha256:test-train-hash"}},
               "dev": evaluate_label_sets([r["labels"] for r in dev], model.predict([r["text"] for r in dev]),
                                          themes=taxonomy.ids)}
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
    assert "swagger" in httpx.get(f"{server}/docs").text.lower()
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
    ref = classify(server, ["Pay is low."]).json()["model"]
    assert ref["version"] == info["version"] and ref["version"].startswith("tfidf-")
    assert ref["data_hash"] == info["data_hash"]


@pytest.mark.parametrize("case, status, code, limit", [
    ("too_many", 422, "too_many_texts", 16),
    ("too_long", 422, "text_too_long", 2000),
    ("big_declared", 413, "body_too_large", 50000),
    ("big_streamed", 413, "body_too_large", 50000),
])
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


@pytest.mark.parametrize("body, headers, status, code", [
    (b'{"texts": ["a",', {"content-type": "application/json"}, 400, "malformed_json"),
    (b'{"texts": "not a list"}', {"content-type": "application/json"}, 422, "invalid_request"),
    (b'{"texts": ["a"], "evidence": "maybe"}', {"content-type": "application/json"}, 422, "invalid_request"),
    (b'{"txts": ["a"]}', {"content-type": "application/json"}, 422, "invalid_request"),
    (b'{"texts": ["a"]}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
])
def test_bad_requests_are_json_4xx(server, body, headers, status, code):
    response = httpx.post(f"{server}/v1/classify", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_unknown_route_is_json_404(server):
    response = httpx.get(f"{server}/v2/nothing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def _concurrent(base: str, texts: list[str], model_dir: Path) -> None:
    """8 clients × 5 requests of different texts; every answer equals predict on that request."""
    jobs = [texts[(k * 3) % 50:(k * 3) % 50 + 1 + k % 7] for k in range(40)]

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
            "code": "too_many_texts", "message": "3 texts; the limit is 2 per request", "limit": 2}
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
    assert Limits.from_env(LIMITS) == Limits(16, 2000, 50000)


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
