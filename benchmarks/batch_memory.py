"""Peak memory and rows/s of ``themesift classify`` on a large CSV export.

    python benchmarks/batch_memory.py --rows 200000              # the shipped default model
    python benchmarks/batch_memory.py --rows 200000 --model DIR  # any model directory

Builds a CSV of N rows (id, comment, group) from ../shared/data/employee-reviews/pool.jsonl,
repeating the pool when N exceeds it, runs the CLI in a child process, reads the child's peak
resident memory from the kernel (getrusage), and checks the output has exactly the input's
rows in order.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import POOL, REPO, require


def build_csv(path: Path, rows: int) -> None:
    pool = [json.loads(line)["text"] for line in open(require(POOL), encoding="utf-8")]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "comment", "group"])
        for i in range(rows):
            writer.writerow([i, pool[i % len(pool)], f"g{i % 7}"])


def check_output(path: Path, rows: int) -> None:
    import pyarrow.csv as pacsv

    ids = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(include_columns=["id"]))["id"].to_pylist()
    if ids != list(range(rows)):
        raise SystemExit(f"output rows differ from input: {len(ids)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--model", default=None, help="model directory (default: the shipped default model)")
    parser.add_argument("--workdir", default=str(REPO / "runs" / "batch-memory"))
    parser.add_argument("--json", default=None, help="write the figures as JSON")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    src, out = work / f"pool_{args.rows}.csv", work / f"pool_{args.rows}_themes.csv"
    if not src.exists():
        build_csv(src, args.rows)
    cmd = [
        str(Path(sys.executable).with_name("themesift")),
        "classify",
        str(src),
        "-o",
        str(out),
        "--text-column",
        "comment",
    ] + (["--model", args.model] if args.model else [])
    start = time.time()
    subprocess.run(cmd, check=True)
    seconds = time.time() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    check_output(out, args.rows)
    result = {
        "rows": args.rows,
        "model": args.model or "default",
        "seconds": round(seconds, 1),
        "rows_per_s": round(args.rows / seconds, 1),
        "peak_rss_mib": round(peak_mib, 1),
        "rows_in_order": True,
    }
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
