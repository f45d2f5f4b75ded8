"""torch vs onnx vs onnx-int8 for one model (and SetFit, if trained): dev F1 and comments/s.

    python benchmarks/peers/backends.py                       # the shipped default model
    python benchmarks/peers/backends.py --model runs/x --n 2000 --repeat 2 --json runs/backends.json

Accuracy on ex-cx-gold **dev** (never test): theme:polarity and theme micro-F1 with the
model's own thresholds, and the largest probability difference from the first backend.
Speed: ``themesift.predict`` over the first N pool comments after a warm-up (which also
builds the ONNX export when it is not cached). All variants run in this one process,
interleaved ``--repeat`` times (best time kept), so they see the same machine load. With
``--setfit DIR`` (default: compare_peers' ex-cx-gold SetFit work dir, when it exists) the
SetFit model trained there is timed the same way, as the peer to beat.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import GOLD, POOL, REPO, read_texts  # noqa: E402

SETFIT_DIR = REPO / "runs" / "peers" / "work" / "ex-cx-gold" / "setfit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="artifact dir (default: the shipped default model)")
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--setfit", default=str(SETFIT_DIR) if (SETFIT_DIR / "model").is_dir() else None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="timed rounds over all variants (best is kept)")
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

    def themesift_variant(backend):
        def run(batch):
            set_backend(model, backend)  # an ensemble's transformer members
            return [r["labels"] for r in predict(batch, model)]

        return run

    variants = {b: themesift_variant(b) for b in args.backends}
    if args.setfit:
        from peers import setfit_runner

        variants["setfit"] = setfit_runner.load(Path(args.setfit), "default").predict
    rows, reference, first = {}, None, {}
    for name, run in variants.items():
        started = time.perf_counter()
        run(texts[:32])  # warm-up (and ONNX export, first time)
        first[name] = time.perf_counter() - started
        metrics = evaluate_label_sets(dev_gold, run(dev_texts), themes=model.themes)
        row = {
            "variant": name,
            "dev_theme_polarity_micro_f1": metrics["theme_polarity"]["micro"]["f1"],
            "dev_theme_micro_f1": metrics["theme"]["micro"]["f1"],
            "first_call_seconds": round(first[name], 1),
        }
        if name != "setfit":
            set_backend(model, name)
            proba = model.predict_proba(dev_texts)
            reference = proba if reference is None else reference
            row["max_abs_proba_diff_vs_first"] = float(np.abs(proba - reference).max())
        rows[name] = row
    for _ in range(args.repeat):  # interleaved rounds: every variant sees the same load
        for name, run in variants.items():
            started = time.perf_counter()
            run(texts)
            seconds = time.perf_counter() - started
            rows[name]["seconds"] = round(min(seconds, rows[name].get("seconds", seconds)), 2)
    for row in rows.values():
        row["comments_per_s"] = round(len(texts) / row["seconds"], 1)
        print(
            f"{row['variant']:<10} dev tp-F1 {row['dev_theme_polarity_micro_f1']:.4f}  "
            f"theme-F1 {row['dev_theme_micro_f1']:.4f}  {row['comments_per_s']:>7.1f} comments/s",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "model": str(path),
                    "setfit": args.setfit,
                    "comments": len(texts),
                    "threads": os.environ.get("THEMESIFT_THREADS"),
                    "rows": list(rows.values()),
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
