"""Comments per second of ``themesift.predict`` for each model family.

    python benchmarks/throughput.py                 # default model + tfidf and embed trained on ex-cx-gold train
    python benchmarks/throughput.py --model mine=runs/my-model --n 2000 --json out.json

Texts: the first N comments of ../shared/data/employee-reviews/pool.jsonl. Each model is
loaded and warmed up on 32 texts first; the figure is N / wall time of one predict call.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from common import GOLD, POOL, REPO, read_texts, require


def _train_baseline(family: str, out: Path) -> Path:
    """tfidf/embed artifacts for the comparison, trained once and cached under runs/."""
    if (out / "config.json").is_file():
        return out
    from themesift.training.train import TrainConfig, train

    train(
        TrainConfig(
            data=str(require(GOLD / "train.jsonl")),
            dev=str(GOLD / "dev.jsonl"),
            output=str(out),
            family=family,
            default_taxonomy=True,
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="comments to classify (default 2000)")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=DIR", help="models to time")
    parser.add_argument("--json", default=None, help="write the figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from themesift.serve.predict import default_model_path, load_model, predict

    texts = read_texts(POOL, args.n)
    models = dict(m.split("=", 1) for m in args.model) or {
        "tfidf": str(_train_baseline("tfidf", REPO / "runs" / "bench-tfidf")),
        "embed": str(_train_baseline("embed", REPO / "runs" / "bench-embed")),
        "default": str(default_model_path()),
    }
    rows = []
    for name, path in models.items():
        model = load_model(path)
        predict(texts[:32], model)  # warm-up: lazy init, thread pools
        start = time.perf_counter()
        predict(texts, model)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": name,
                "family": model.family,
                "comments": len(texts),
                "seconds": round(seconds, 2),
                "comments_per_s": round(len(texts) / seconds, 1),
            }
        )
        print(f"{name:<10} {model.family:<9} {len(texts) / seconds:>9.1f} comments/s  ({seconds:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
