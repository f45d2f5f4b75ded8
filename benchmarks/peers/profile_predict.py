"""Where ``predict`` spends its time: run it under py-spy, then sum the samples by stage.

    py-spy record --native --rate 250 --format raw -o runs/peers/profile-torch.txt -- \\
        .venv/bin/python benchmarks/peers/profile_predict.py --backend torch
    .venv/bin/python benchmarks/peers/profile_predict.py --summarize runs/peers/profile-torch.txt

The first form loads the default model, warms it up and classifies N pool comments once;
the second reads py-spy's collapsed stacks and prints the share of ``predict`` time per stage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import POOL, read_texts  # noqa: E402

# (stage, substrings of the deepest Python frame of a sample); first match wins
STAGES = [
    ("tokenizer (HF fast tokenizer)", ("tokenization_utils", "tokenizers/", "_batch_encode", "_encode_plus")),
    (
        "padding / batch assembly",
        ("pad_batch", "token_budget_batches", "length_sorted_batches", "pad (", "convert_to_tensors", "as_tensor"),
    ),
    ("encoder matmuls (torch Linear → MKL sgemm)", ("Linear.forward",)),
    ("attention (torch SDPA flash kernel)", ("sdpa_attention", "scaled_dot_product")),
    (
        "LayerNorm, GELU, residual adds, embeddings, pooling",
        (
            "GELUActivation",
            "layer_norm",
            "embedding (",
            "BertSelfOutput",
            "BertOutput",
            "BertEmbeddings",
            "mean_pool",
            "BertIntermediate",
            "BertSelfAttention",
        ),
    ),
    ("ONNX Runtime Session.run (whole encoder + head)", ("Session.run",)),
    (
        "softmax per theme + decode + result dicts",
        ("softmax_per_theme", "_decode_themes", "decode (", "presence_scores", "_predict_proba (models/ensemble"),
    ),
    ("text checks + normalisation", ("normalize_text", "text_problem", "nlp/normalize.py")),
]
MEASURED = "measured_predict ("


def summarize(path: Path, marker: str = MEASURED) -> None:
    """Share of the measured predict() call per stage, by each sample's deepest Python frame."""
    totals, omp, inside = Counter(), 0, 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if marker not in stack:
            continue
        n = int(count)
        inside += n
        frames = stack.split(";")
        python = [f for f in frames if ".py:" in f]
        deepest = python[-1] if python else ""
        stage = next((name for name, keys in STAGES if any(k in deepest for k in keys)), None)
        totals[stage or f"other Python ({deepest.split(' (')[0] or '?'} …)"] += n
        omp += n if "libgomp" in frames[-1] else 0
    print(f"{inside} samples (main thread) in the measured predict() call")
    for stage, n in totals.most_common(12):
        print(f"{100 * n / max(inside, 1):5.1f}%  {stage}")
    print(f"{100 * omp / max(inside, 1):5.1f}%  of all samples sit in OpenMP (libgomp) waits inside parallel regions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--summarize", default=None, metavar="RAW", help="summarise a py-spy --format raw file")
    parser.add_argument("--marker", default=MEASURED, help="frame that marks the measured call in the stacks")
    args = parser.parse_args()
    if args.summarize:
        return summarize(Path(args.summarize), args.marker)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from peers.themesift_runner import set_backend
    from themesift.serve.predict import load_model, predict

    model = load_model(None if args.model == "default" else args.model)
    set_backend(model, args.backend)
    texts = read_texts(POOL, args.n)
    predict(texts[:32], model)  # warm-up: lazy init, ONNX export on first use
    measured_predict(texts, model, predict)


def measured_predict(texts, model, predict) -> None:
    """The call the summary counts (a named frame to find in the stacks)."""
    predict(texts, model)


if __name__ == "__main__":
    main()
