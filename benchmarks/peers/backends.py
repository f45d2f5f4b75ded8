"""torch vs onnx vs onnx-int8 for one model: dev F1 and comments/s, to choose the default backend.

    python benchmarks/peers/backends.py                       # the shipped default model
    python benchmarks/peers/backends.py --model runs/x --n 2000 --json runs/backends.json

Accuracy on ex-cx-gold **dev** (never test): theme:polarity and theme micro-F1 with the
model's own thresholds, and the largest probability difference from torch. Speed: one
``themesift.predict`` call over the first N pool comments after a warm-up (which also
builds the ONNX export when it is not cached yet).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import GOLD, POOL, read_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="artifact dir (default: the shipped default model)")
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="timed predict calls per backend (best is kept)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np

    from peers.themesift_runner import set_backend

    from themesift.models.registry import load_artifact
    from themesift.serve.predict import default_model_path, predict
    from themesift.training.evaluate import evaluate_label_sets

    path = default_model_path() if args.model == "default" else Path(args.model)
    model = load_artifact(path)
    dev = [json.loads(line) for line in open(GOLD / "dev.jsonl", encoding="utf-8")]
    dev_texts, dev_gold = [r["text"] for r in dev], [r["labels"] for r in dev]
    texts = read_texts(POOL, args.n)
    rows, reference = [], None
    for backend in args.backends:
        set_backend(model, backend)  # an ensemble's transformer members
        started = time.perf_counter()
        predict(texts[:32], model)  # warm-up (and export, first time)
        first = time.perf_counter() - started
        best = min(_timed(predict, texts, model) for _ in range(args.repeat))
        proba = model.predict_proba(dev_texts)
        reference = proba if reference is None else reference
        metrics = evaluate_label_sets(dev_gold, model.decode(proba), themes=model.themes)
        rows.append({"backend": backend, "dev_theme_polarity_micro_f1": metrics["theme_polarity"]["micro"]["f1"],
                     "dev_theme_micro_f1": metrics["theme"]["micro"]["f1"],
                     "max_abs_proba_diff_vs_first": float(np.abs(proba - reference).max()),
                     "comments": len(texts), "seconds": round(best, 2), "comments_per_s": round(len(texts) / best, 1),
                     "first_call_seconds": round(first, 1)})
        r = rows[-1]
        print(f"{backend:<10} dev tp-F1 {r['dev_theme_polarity_micro_f1']:.4f}  theme-F1 {r['dev_theme_micro_f1']:.4f}  "
              f"max|dp| {r['max_abs_proba_diff_vs_first']:.2e}  {r['comments_per_s']:>7.1f} comments/s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"model": str(path), "threads": os.environ.get("THEMESIFT_THREADS"),
                                               "rows": rows}, indent=2) + "\n")


def _timed(fn, texts, model) -> float:
    started = time.perf_counter()
    fn(texts, model)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
