"""Load test for the HTTP API: start `themesift serve` in a subprocess on a free loopback
port, drive it from this process with N concurrent keep-alive clients, and classify the same
comments in-process with ``predict`` (same batches, one call each) right after, on the same
machine, so the two rates are comparable within one run.

    .venv/bin/python benchmarks/http_load.py --requests 150 --batch 16 --concurrency 50 \
        --json benchmarks/results/http_load.json

Comments come from ../shared/data/employee-reviews/pool.jsonl (relative to the repo root);
without it the benchmark says so and exits 0. Prints requests/s, comments/s, p50/p95/p99
latency, the error count (any status but 200, 503s included), the server's RSS (process tree:
before the load, peak during it, after it) and the HTTP/in-process throughput ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import POOL  # noqa: E402
from common import read_texts as read_comments
from themesift.serve.http import DEFAULT_BATCH_MS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: argparse.Namespace, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", THEMESIFT_MAX_TEXTS=str(max(256, args.batch)))
    if args.batch_ms is not None:
        env["THEMESIFT_BATCH_MS"] = str(args.batch_ms)
    if args.threads:
        env["THEMESIFT_THREADS"] = str(args.threads)
    cmd = [
        sys.executable,
        "-m",
        "themesift.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
    ]
    if args.model:
        cmd += ["--model", args.model]
    return subprocess.Popen(cmd, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 300) -> float:
    started = time.time()
    while time.time() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError("server exited before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.time() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server not ready after {timeout} s")


def drive(base: str, batches: list[list[str]], concurrency: int) -> tuple[list[float], int, float]:
    """Send every batch once from ``concurrency`` keep-alive clients; latencies in seconds."""
    latencies: list[float] = []
    errors = 0
    next_index = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal next_index, errors
        with httpx.Client(base_url=base, timeout=300) as http:
            while True:
                with lock:
                    if next_index >= len(batches):
                        return
                    batch = batches[next_index]
                    next_index += 1
                t0 = time.perf_counter()
                try:
                    ok = http.post("/v1/classify", json={"texts": batch}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    errors += not ok

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - t0


def server_rss_mb(pid: int) -> float:
    """Resident memory of the server and its worker processes, MB."""
    import psutil

    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


class RssSampler(threading.Thread):
    """Peak server RSS while the load runs (sampled every 0.25 s)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, server_rss_mb(self.pid))
            self.stop.wait(0.25)


def in_process_rates(model: str | None, batches: list[list[str]], threads: int) -> dict:
    """comments/s of in-process ``predict`` on the same comments: one call per request's batch,
    and one call for all of them (the best a single process can do)."""
    if threads:
        os.environ["THEMESIFT_THREADS"] = str(threads)
    from themesift.serve.predict import load_model, predict

    clf = load_model(model)
    predict(batches[0], clf)  # warm-up, as the server's
    n, out = sum(map(len, batches)), {}
    t0, c0 = time.perf_counter(), time.process_time()
    for batch in batches:
        predict(batch, clf)
    out["per_batch"] = round(n / (time.perf_counter() - t0), 1)
    out["per_batch_cpu_ms_per_comment"] = round(1000 * (time.process_time() - c0) / n, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    predict([t for batch in batches for t in batch], clf)
    out["one_call"] = round(n / (time.perf_counter() - t0), 1)
    out["one_call_cpu_ms_per_comment"] = round(1000 * (time.process_time() - c0) / n, 1)
    return out


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server and its worker processes: on a shared machine
    this is steadier than wall time for comparing server settings."""
    import psutil

    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--requests", type=int, default=200, help="timed requests (default 200)")
    p.add_argument("--batch", type=int, default=16, help="comments per request (default 16)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--warmup", type=int, default=8, help="untimed requests first (default 8)")
    p.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    p.add_argument("--threads", type=int, default=0, help="THEMESIFT_THREADS for the server (default: unset)")
    p.add_argument(
        "--batch-ms",
        type=float,
        default=None,
        help="server micro-batching window, ms (0 = off; default: the server's default)",
    )
    p.add_argument("--data", default=str(POOL), help="JSONL of comments with a 'text' field")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the figures as JSON")
    p.add_argument("--no-in-process", action="store_true", help="skip the in-process predict reference")
    args = p.parse_args(argv)

    if not Path(args.data).is_file():
        print(f"skipped: comment pool not found at {args.data}")
        return 0
    comments = read_comments(Path(args.data), (args.requests + args.warmup) * args.batch)
    batches = [comments[(i * args.batch) % len(comments) :][: args.batch] for i in range(args.requests + args.warmup)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / f"themesift-http-load-{port}.log"
    proc = start_server(args, port, log_path)
    try:
        ready_s = wait_ready(base, proc)
        model = httpx.get(f"{base}/v1/model", timeout=30).json()
        drive(base, batches[: args.warmup], args.concurrency)
        rss_before = server_rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        cpu0 = server_cpu_seconds(proc.pid)
        latencies, errors, wall = drive(base, batches[args.warmup :], args.concurrency)
        cpu_s = server_cpu_seconds(proc.pid) - cpu0
        sampler.stop.set()
        sampler.join()
        time.sleep(2)
        rss_after = server_rss_mb(proc.pid)
    except Exception:
        print(log_path.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(30)
    local = None if args.no_in_process else in_process_rates(args.model, batches[args.warmup :], args.threads)
    http_rate = len(latencies) * args.batch / wall
    result = {
        "model": {"family": model.get("family"), "version": model.get("version")},
        "requests": len(latencies),
        "comments_per_request": args.batch,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "threads": args.threads or None,
        "batch_ms": DEFAULT_BATCH_MS if args.batch_ms is None else args.batch_ms,
        "errors": errors,
        "seconds": round(wall, 2),
        "ready_s": round(ready_s, 1),
        "server_cpu_ms_per_comment": round(1000 * cpu_s / (len(latencies) * args.batch), 1),
        "requests_per_s": round(len(latencies) / wall, 2),
        "comments_per_s": round(len(latencies) * args.batch / wall, 1),
        "latency_ms": {f"p{q}": round(1000 * percentile(latencies, q), 1) for q in (50, 95, 99)},
        "server_rss_mb": {"before": round(rss_before), "peak": round(sampler.peak), "after": round(rss_after)},
        "in_process_comments_per_s": local,
        "http_vs_in_process": {k: round(http_rate / local[k], 3) for k in ("per_batch", "one_call")} if local else None,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    lat = result["latency_ms"]
    print(
        f"{result['model']['version']}: {result['requests']} requests × {args.batch} comments, "
        f"concurrency {args.concurrency}, workers {args.workers}, batch_ms {result['batch_ms']}"
    )
    print(
        f"  {result['requests_per_s']} requests/s   {result['comments_per_s']} comments/s   "
        f"p50 {lat['p50']} ms   p95 {lat['p95']} ms   p99 {lat['p99']} ms   errors {errors}   "
        f"server CPU {result['server_cpu_ms_per_comment']} ms/comment"
    )
    rss = result["server_rss_mb"]
    print(f"  server RSS {rss['before']} MB before, {rss['peak']} MB peak, {rss['after']} MB after")
    if local:
        print(
            f"  in-process predict on the same comments, comments/s: {local} (per request batch; all in one "
            f"call); HTTP/in-process: {result['http_vs_in_process']}"
        )
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
