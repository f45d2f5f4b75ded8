"""Does ``themesift audit`` find realistic label errors? Corrupt a seeded 5 % of ex-cx-gold train
rows the ways an annotator slips (a polarity flipped, a theme swapped for another, a label dropped,
a wrong label added), run the audit on the corrupted copy, rank rows (a row counts once, at its
best issue) and score the top of that ranking against the rows that were corrupted.

    python benchmarks/audit_noise.py --seeds 0 1 2 -o benchmarks/results/audit_noise.json

Precision here is a lower bound: the single-annotator train labels have errors of their own, and a
row the audit flags for one of those counts as a false alarm.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter

import numpy as np

from common import GOLD, REPO, require
from themesift.training.audit import find_label_issues
from themesift.training.data import LabeledData

KINDS = ("polarity", "theme_swap", "dropped", "added")
TOPS = (0.01, 0.02, 0.05, 0.10)


def _theme_weights(labels: list[list[str]]) -> tuple[list[str], list[int], dict[str, Counter]]:
    """Themes by how often they are used, and each theme's polarity counts: a slip picks a common
    theme more often than a rare one, with a polarity that theme usually has."""
    themes = Counter(lab.partition(":")[0] for ls in labels for lab in ls)
    polarity: dict[str, Counter] = {}
    for ls in labels:
        for lab in ls:
            theme, _, pol = lab.partition(":")
            polarity.setdefault(theme, Counter())[pol] += 1
    names = sorted(themes)
    return names, [themes[t] for t in names], polarity


def _other_theme(rng: random.Random, present: set[str], names: list[str], weights: list[int]) -> str:
    while True:
        theme = rng.choices(names, weights)[0]
        if theme not in present:
            return theme


def _flip(rng: random.Random, polarity: str) -> str:
    """Positive <-> negative mostly; to or from neutral now and then."""
    if polarity == "neutral":
        return rng.choice(["positive", "negative"])
    opposite = "negative" if polarity == "positive" else "positive"
    return opposite if rng.random() < 0.85 else "neutral"


def corrupt(labels: list[list[str]], rate: float, seed: int) -> tuple[list[list[str]], dict[int, str]]:
    """A copy of ``labels`` with round(rate * n) rows changed, a quarter by each kind;
    returns the copy and {row index: kind}."""
    rng = random.Random(seed)
    names, weights, polarity = _theme_weights(labels)
    out = [list(ls) for ls in labels]
    n_bad = round(rate * len(labels))
    quota = {kind: n_bad // len(KINDS) + (k < n_bad % len(KINDS)) for k, kind in enumerate(KINDS)}
    order = list(range(len(labels)))
    rng.shuffle(order)
    changed: dict[int, str] = {}
    for kind in KINDS:
        for i in order:
            if quota[kind] == 0:
                break
            if i in changed or (kind != "added" and not out[i]):
                continue
            ls, present = out[i], {lab.partition(":")[0] for lab in out[i]}
            k = rng.randrange(len(ls)) if ls else -1
            if kind == "polarity":
                theme, _, pol = ls[k].partition(":")
                ls[k] = f"{theme}:{_flip(rng, pol)}"
            elif kind == "theme_swap":
                pol = ls[k].partition(":")[2]
                ls[k] = f"{_other_theme(rng, present, names, weights)}:{pol}"
            elif kind == "dropped":
                del ls[k]
            else:
                theme = _other_theme(rng, present, names, weights)
                pols = polarity[theme]
                ls.append(f"{theme}:{rng.choices(list(pols), list(pols.values()))[0]}")
            out[i] = sorted(ls)
            changed[i] = kind
            quota[kind] -= 1
    return out, changed


def row_ranking(issues) -> list[int]:
    """Row indices (0-based), each once, in the order of its first (best) issue."""
    seen: dict[int, None] = {}
    for row in issues["row"]:
        seen.setdefault(int(row) - 1, None)
    return list(seen)


def score(ranking: list[int], changed: dict[int, str], n_rows: int) -> dict:
    """Precision and recall at the top 1/2/5/10 % of rows, average precision, recall per kind."""
    hits = np.array([i in changed for i in ranking], dtype=float)
    out: dict = {"listed_rows": len(ranking)}
    for top in TOPS:
        k = round(top * n_rows)
        got = hits[:k].sum()
        out[f"top_{round(top * 100)}pct"] = {
            "rows": k,
            "precision": round(float(got / k), 4),
            "recall": round(float(got / len(changed)), 4),
        }
    precision_at_hit = np.cumsum(hits)[hits == 1] / (np.flatnonzero(hits) + 1)
    out["average_precision"] = round(float(precision_at_hit.sum() / len(changed)), 4)
    k5 = set(ranking[: round(0.05 * n_rows)])
    out["recall_at_top_5pct_by_kind"] = {
        kind: round(sum(1 for i, kd in changed.items() if kd == kind and i in k5) / max(1, n), 4)
        for kind, n in Counter(changed.values()).items()
    }
    return out


def run_seed(texts: list[str], labels: list[list[str]], seed: int, args, embeddings) -> dict:
    bad_labels, changed = corrupt(labels, args.rate, seed)
    start = time.perf_counter()
    issues = find_label_issues(
        LabeledData(texts, bad_labels),
        family=args.family,
        folds=args.folds,
        seed=0,
        embed=not args.no_embed,
        embeddings=embeddings,
        progress=False,
    )
    seconds = time.perf_counter() - start
    kinds = Counter(changed.values())
    result = {"seed": seed, "corrupted_rows": len(changed), "kinds": dict(sorted(kinds.items()))}
    result.update(score(row_ranking(issues), changed, len(texts)))
    result["audit_seconds_without_encoding"] = round(seconds, 1)
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def _mean(per_seed: list[dict]) -> dict:
    out = {
        f"{key}_{stat}": round(float(np.mean([s[key][stat] for s in per_seed])), 4)
        for key in (f"top_{round(t * 100)}pct" for t in TOPS)
        for stat in ("precision", "recall")
    }
    out["average_precision"] = round(float(np.mean([s["average_precision"] for s in per_seed])), 4)
    for kind in KINDS:
        out[f"recall_at_top_5pct_{kind}"] = round(
            float(np.mean([s["recall_at_top_5pct_by_kind"][kind] for s in per_seed])), 4
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--rows", type=int, default=None, help="the first N train rows (default: all)")
    parser.add_argument("--family", default="tfidf")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-embed", action="store_true", help="the family alone, no MiniLM second opinion")
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(require(GOLD / "train.jsonl"), encoding="utf-8")][: args.rows]
    texts, labels = [r["text"] for r in rows], [list(r["labels"]) for r in rows]
    embeddings, encode_seconds = None, 0.0
    if not args.no_embed:  # the texts are the same for every seed: encode them once
        from themesift.models.embed import EmbedClassifier

        start = time.perf_counter()
        embeddings = EmbedClassifier().embed(texts)
        encode_seconds = round(time.perf_counter() - start, 1)
    per_seed = [run_seed(texts, labels, seed, args, embeddings) for seed in args.seeds]
    kinds = Counter()
    for s in per_seed:
        kinds.update(s["kinds"])
    result = {
        "command": "python benchmarks/audit_noise.py " + " ".join(sys.argv[1:]),
        "data": f"ex-cx-gold train.jsonl, {'all' if args.rows is None else f'first {args.rows}'} ({len(rows)} rows)",
        "rate": args.rate,
        "family": args.family,
        "embed_second_opinion": not args.no_embed,
        "folds": args.folds,
        "encode_seconds": encode_seconds,
        "kind_share": {k: round(n / sum(kinds.values()), 4) for k, n in sorted(kinds.items())},
        "mean_over_seeds": _mean(per_seed),
        "per_seed": per_seed,
        "note": "precision is a lower bound: the single-annotator train labels have errors of their own",
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        (REPO / args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
