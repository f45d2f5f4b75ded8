"""Compare fine-tuned members for the default model on ex-cx-gold **dev** only ("cross-tuned").

    python benchmarks/cross_tuned_dev.py runs/lora16-e8 runs/lora16-e8-ta-p8 --tfidf runs/bench-tfidf

Thresholds tuned on dev and scored on the same dev flatter every model; here dev is split in
two halves (seed 0), thresholds are tuned on one half and scored on the other, both ways, and
the two theme:polarity micro-F1s are averaged. Each member is scored alone and as an equal-weight
average with the TF-IDF model, the default model's recipe. Test is never read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import GOLD, require  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("members", nargs="+", help="fine-tuned model directories to compare")
    parser.add_argument("--tfidf", required=True, help="the TF-IDF model directory to average with")
    parser.add_argument("--dev", default=str(GOLD / "dev.jsonl"), help="labeled dev JSONL (default: ex-cx-gold dev)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from themesift.models.registry import load_artifact
    from themesift.training.data import load_labeled
    from themesift.training.evaluate import evaluate_label_sets
    from themesift.training.thresholds import tune_thresholds

    tfidf = load_artifact(args.tfidf)
    space = tfidf.label_space_
    dev = load_labeled(require(Path(args.dev)), label_space=space, polarities=space.polarities)
    y = space.encode(dev.label_sets)
    order = np.random.default_rng(0).permutation(len(dev))
    halves = np.sort(order[: len(dev) // 2]), np.sort(order[len(dev) // 2 :])

    def f1(proba: np.ndarray, tune: np.ndarray, score: np.ndarray) -> float:
        tfidf.set_thresholds(tune_thresholds(proba[tune], y[tune]))
        gold = [dev.label_sets[i] for i in score]
        return evaluate_label_sets(gold, tfidf.decode(proba[score]), themes=space.themes)["theme_polarity"]["micro"][
            "f1"
        ]

    def cross(proba: np.ndarray) -> str:
        a, b = halves
        everything = np.arange(len(dev))
        cross = (f1(proba, a, b) + f1(proba, b, a)) / 2
        return f"cross-tuned {cross:.4f} (tuned and scored on all dev {f1(proba, everything, everything):.4f})"

    p_tfidf = tfidf.predict_proba(dev.texts)
    for path in args.members:
        member = load_artifact(path)
        if member.themes != tfidf.themes:
            parser.error(f"{path}: its themes differ from {args.tfidf}'s")
        proba = member.predict_proba(dev.texts)
        print(f"{path}: alone {cross(proba)}; with tfidf {cross(0.5 * proba + 0.5 * p_tfidf)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
