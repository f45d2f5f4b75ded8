"""Zero-shot family on taxonomies it was not built for, with their real labels (development only).

Three taxonomies in benchmarks/zeroshot/, descriptions written here, each scored on labeled data
that is not a test split:

* ``semeval16-restaurants``: SemEval-2016's 12 restaurant categories, on its official train split;
* ``airline-reasons``: the airline tweets' complaint reasons (``cant_tell`` left out), on a seeded
  2,000-tweet sample of its train split;
* ``employee-merged``: ex-cx-1's employee themes merged into 8 and renamed, on ex-cx-gold dev. The
  default model (the reference) learned the unmerged themes, so this is the easy case.

For scale, the usual baseline: comment-level MiniLM cosine to each theme's name + description,
one threshold for all themes picked on the scored set itself (an oracle a user does not have).
Polarity scores count a theme right only with its polarity; the baseline has none (it writes
``positive``). Run: ``python benchmarks/zeroshot_dev.py`` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np
import yaml

from common import REPO, SHARED, require
from themesift.models.taxonomy import load_taxonomy
from themesift.models.zeroshot import build_zeroshot
from themesift.nlp.atomic import atomic_write_text
from themesift.training.evaluate import evaluate_label_sets

HERE = REPO / "benchmarks" / "zeroshot"
DATA = SHARED / "data"


def _read(path):
    with open(require(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def datasets(sample: int) -> dict[str, tuple[list[str], list[list[str]], str]]:
    out = {}
    rows = _read(DATA / "semeval16-restaurants" / "train.jsonl")
    out["semeval16-restaurants"] = ([r["text"] for r in rows], [r["labels"] for r in rows], "train (official)")
    rows = _read(DATA / "airline-tweets" / "train.jsonl")
    random.Random(0).shuffle(rows)
    rows = rows[:sample]
    out["airline-reasons"] = (
        [r["text"] for r in rows],
        [[lab for lab in r["labels"] if not lab.startswith("cant_tell:")] for r in rows],
        f"train, {sample} tweets (seed 0)",
    )
    merges = yaml.safe_load((HERE / "employee-merged.yaml").read_text("utf-8"))["merges"]
    new_id = {old: new for new, olds in merges.items() for old in olds}
    rows = _read(DATA / "ex-cx-gold" / "dev.jsonl")
    labels = []
    for r in rows:
        mapped = set()
        for lab in r["labels"]:
            theme, _, polarity = lab.partition(":")
            if theme in new_id:
                mapped.add(f"{new_id[theme]}:{polarity}")
        labels.append(sorted(mapped))
    out["employee-merged"] = ([r["text"] for r in rows], labels, "ex-cx-gold dev")
    return out


def _scores(gold, pred) -> dict:
    m = evaluate_label_sets(gold, pred)
    return {
        "theme_micro_f1": round(m["theme"]["micro"]["f1"], 4),
        "theme_polarity_micro_f1": round(m["theme_polarity"]["micro"]["f1"], 4),
        "theme_precision": round(m["theme"]["micro"]["precision"], 4),
        "theme_recall": round(m["theme"]["micro"]["recall"], 4),
    }


def cosine_baseline(model, taxonomy, texts, gold) -> dict:
    """Comment cosine to name + description, the best single threshold on this very set."""
    described = model._embed([f"{t.name}. {t.description}" for t in taxonomy.themes])
    comments = model._embed(texts)
    cos = (comments / np.linalg.norm(comments, axis=1, keepdims=True)) @ (
        described / np.linalg.norm(described, axis=1, keepdims=True)
    ).T
    themes = model.themes
    best = None
    for threshold in np.arange(0.05, 0.8, 0.01):
        pred = [[f"{themes[j]}:positive" for j in np.where(row >= threshold)[0]] for row in cos]
        s = _scores(gold, pred)
        if best is None or s["theme_micro_f1"] > best["theme_micro_f1"]:
            best = {**s, "threshold": round(float(threshold), 2)}
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=2000, help="airline tweets scored (default 2000)")
    ap.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "zeroshot_dev.json"))
    args = ap.parse_args()
    results = {}
    for name, (texts, labels, split) in datasets(args.sample).items():
        taxonomy = load_taxonomy(HERE / f"{name}.yaml")
        gold = [[lab for lab in labs if lab.partition(":")[0] in taxonomy.ids] for labs in labels]
        start = time.perf_counter()
        model = build_zeroshot(taxonomy)
        pred = model.predict(texts, audience=None)
        seconds = time.perf_counter() - start
        results[name] = {
            "scored_on": split,
            "comments": len(texts),
            "themes": len(taxonomy.ids),
            "zeroshot": _scores(gold, pred),
            "cosine_baseline_oracle_threshold": cosine_baseline(model, taxonomy, texts, gold),
            "seconds": round(seconds, 1),
        }
        print(name, json.dumps(results[name]), flush=True)
    out = {"command": "python benchmarks/zeroshot_dev.py", "results": results}
    atomic_write_text(args.json, json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
