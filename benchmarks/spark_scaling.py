"""Spark scaling: comments/s of ``classify_dataframe`` on local[1] vs local[2] (and more).

    .venv/bin/python benchmarks/spark_scaling.py --n 2000 --masters local[1],local[2] --json out.json

Each master gets a fresh SparkSession. An untimed warm-up job first makes every Python
worker load the model (reported as ``warmup_s``); the timed job then classifies ``--n``
comments from ../shared/data/employee-reviews/pool.jsonl (skips with a message when
absent) into Spark's no-op sink, so the figure is classification, not file writing.
Python workers run with THEMESIFT_THREADS=1 unless it is set. ``--baseline`` also times
plain in-process ``predict`` on the same comments for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import POOL  # noqa: E402
from common import read_texts as read_comments


def run_master(master: str, comments: list[str], model: str | None) -> dict:
    import pandas as pd
    from pyspark.sql import SparkSession

    from themesift.serve.spark import classify_dataframe

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(master)
        .appName("themesift-scaling")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    cores = spark.sparkContext.defaultParallelism
    started_s = time.perf_counter() - t0
    try:

        def job(texts: list[str]) -> float:
            df = spark.createDataFrame(pd.DataFrame({"id": range(len(texts)), "text": texts}))
            t = time.perf_counter()
            classify_dataframe(df, model=model).write.format("noop").mode("overwrite").save()
            return time.perf_counter() - t

        warmup_s = job(comments[: 8 * cores])  # one small partition per core: every worker loads the model
        seconds = job(comments)
    finally:
        spark.stop()
    return {
        "master": master,
        "cores": cores,
        "n": len(comments),
        "seconds": round(seconds, 2),
        "comments_per_s": round(len(comments) / seconds, 1),
        "session_start_s": round(started_s, 1),
        "warmup_s": round(warmup_s, 1),
    }


def run_baseline(comments: list[str], model: str | None) -> dict:
    from themesift.serve.predict import load_model, predict

    clf = load_model(model)
    predict(comments[:16], clf)
    t = time.perf_counter()
    predict(comments, clf)
    seconds = time.perf_counter() - t
    return {
        "master": f"in-process predict (THEMESIFT_THREADS={os.environ.get('THEMESIFT_THREADS', 'all cores')})",
        "n": len(comments),
        "seconds": round(seconds, 2),
        "comments_per_s": round(len(comments) / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="comments to classify (default 2000)")
    p.add_argument("--masters", default="local[1],local[2]", help="comma-separated Spark masters")
    p.add_argument("--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--data", default=str(POOL), help="JSONL of comments with a 'text' field")
    p.add_argument("--baseline", action="store_true", help="also time in-process predict() on the same comments")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the figures as JSON")
    args = p.parse_args(argv)

    if not Path(args.data).is_file():
        print(f"skipped: comment pool not found at {args.data}")
        return 0
    os.environ.setdefault("THEMESIFT_THREADS", "1")  # inherited by local-mode Python workers
    comments = read_comments(Path(args.data), args.n)
    rows = [run_master(m.strip(), comments, args.model) for m in args.masters.split(",") if m.strip()]
    if args.baseline:
        rows.append(run_baseline(comments, args.model))
    for row in rows:
        print(f"{row['master']:<44} {row['comments_per_s']:>8} comments/s   ({row['n']} in {row['seconds']} s)")
    first = rows[0]["comments_per_s"]
    result = {
        "rows": rows,
        "speedup_vs_first": [round(r["comments_per_s"] / first, 2) for r in rows],
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
