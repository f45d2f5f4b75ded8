"""Store a TF-IDF member's coefficients as int8 (one float32 scale per output column), 4x smaller,
and measure what it changes: labels and theme:polarity micro-F1 on both dev sets, and label
agreement (no labels read) on the test texts.

The shipped default model's TF-IDF member was 14.6 MB of float32 coefficients, over the 5 MB a
file in the repository should be; the family still saves float32, the loader reads either.

    python benchmarks/quantize_tfidf.py themesift/default_model --member 1 [-o benchmarks/results/quantize_tfidf.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, require  # noqa: E402
from themesift.models.registry import load_artifact  # noqa: E402
from themesift.training.evaluate import evaluate_label_sets  # noqa: E402

SETS = ("ex-cx-gold", "cx-gold")


def quantized(tensors: dict) -> dict:
    coef = tensors["coef"]
    scale = np.abs(coef).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    out = {k: v for k, v in tensors.items() if k != "coef"}
    out["coef_int8"] = np.clip(np.round(coef / scale[None, :]), -127, 127).astype(np.int8)
    out["coef_scale"] = scale.astype(np.float32)
    return out


def rows(name: str, split: str) -> list[dict]:
    with open(require(SHARED / "data" / name / f"{split}.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--member", type=int, default=1)
    parser.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "results" / "quantize_tfidf.json"))
    args = parser.parse_args()
    weights = Path(args.model) / f"member_{args.member}" / "weights.safetensors"
    if "coef" not in load_file(str(weights)):
        raise SystemExit(f"{weights} holds no float coefficients (already int8?): nothing to do")
    before = load_artifact(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp) / "weights.safetensors"
        shutil.copy(weights, original)
        save_file(quantized(load_file(str(original))), str(weights))
        after = load_artifact(args.model)
        result = {"bytes_before": original.stat().st_size, "bytes_after": weights.stat().st_size}
    for name in SETS:
        dev, test = rows(name, "dev"), rows(name, "test")
        gold = [r["labels"] for r in dev]
        old, new = before.predict([r["text"] for r in dev]), after.predict([r["text"] for r in dev])
        f1 = {
            k: evaluate_label_sets(gold, p)["theme_polarity"]["micro"]["f1"]
            for k, p in (("before", old), ("after", new))
        }
        t_old, t_new = before.predict([r["text"] for r in test]), after.predict([r["text"] for r in test])
        result[name] = {
            "dev_f1": f1,
            "dev_rows_with_other_labels": sum(a != b for a, b in zip(old, new)),
            "test_rows_with_other_labels": sum(a != b for a, b in zip(t_old, t_new)),
            "dev_rows": len(dev),
            "test_rows": len(test),
        }
        print(name, result[name], flush=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(result["bytes_before"], "->", result["bytes_after"], "bytes")


if __name__ == "__main__":
    main()
