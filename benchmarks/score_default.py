"""Score a finished model once on ex-cx-gold test and cx-gold test, overall and per segment.

    python benchmarks/score_default.py themesift/default_model --json benchmarks/results/default_test.json

Run after every choice was made on dev. Writes the figures into the artifact too
(``metrics.json``: ``test`` stays ex-cx-gold's, ``tests`` holds both sets, ``test_by`` their
segments: cx-gold's ``industry``, ex-cx-gold's ``source``) and rewrites its model card.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, require  # noqa: E402

SETS = {"ex-cx-gold test": ("ex-cx-gold", "source"), "cx-gold test": ("cx-gold", "industry")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="model directory")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument(
        "--data-note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a line for the model card's training-data section (sources, licences); repeatable",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from themesift.models import artifact
    from themesift.models.registry import load_artifact
    from themesift.training.card import model_card
    from themesift.training.data import load_labeled
    from themesift.training.evaluate import evaluate_by, read_segments

    path = Path(args.model)
    model = load_artifact(path)
    tests, by = {}, {}
    for name, (folder, column) in SETS.items():
        file = require(SHARED / "data" / folder / "test.jsonl")
        data = load_labeled(file, label_space=model.label_space_, polarities=model.label_space_.polarities)
        scores = evaluate_by(model, data.texts, data.label_sets, read_segments(file, [column], n_rows=len(data)))
        by[name] = scores.pop("by")
        tests[name] = {**scores, "path": str(file), "hash": data.data_hash()}
        print(f"{name}: theme:polarity micro-F1 {scores['theme_polarity']['micro']['f1']:.4f}", flush=True)
        for segment, m in by[name][column].items():
            print(f"  {segment:<48} n={m['n']:<4} {m['theme_polarity']['micro']['f1']:.4f}")
    metrics = artifact.read_json(path / artifact.METRICS)
    metrics["test"] = {k: v for k, v in tests["ex-cx-gold test"].items() if k not in ("path", "hash")}
    metrics["tests"], metrics["test_by"] = tests, by
    if args.data_note:
        metrics["data_notes"] = args.data_note
    artifact.write_json(path / artifact.METRICS, metrics)
    (path / artifact.CARD).write_text(model_card(model, metrics), "utf-8")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"command": "python benchmarks/score_default.py " + " ".join(sys.argv[1:]), "tests": tests, "by": by},
                indent=2,
            )
            + "\n",
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
