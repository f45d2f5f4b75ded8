"""Simulated active learning: does labeling what ``themesift suggest`` picks beat labeling at random?

The pool is ex-cx-gold train with its gold labels hidden until a row is picked (the gold labels
are the oracle). Both arms start from the same seeded random seed set (it counts toward the
budget) and grow in rounds to each budget; the suggest arm retrains the ``tfidf`` family and calls
``suggest()`` on the rest of the pool each round, the random arm draws at random. Each model is
trained as ``themesift.train`` does by default (thresholds tuned on a seeded 10% slice of the
labeled rows, the same rule for both arms) and scored with the project's scorer
(``themesift.evaluate``, theme:polarity micro F1) on ex-cx-gold dev, or with ``--score-on
train-slice`` on a seeded slice of train held out of the pool (to judge selection changes
without dev). ``f1_at_0.5`` scores the same model with every threshold at 0.5: it leaves out the
noise of tuning thresholds on a few dozen labeled rows.

    python benchmarks/active_learning.py                                   # dev, 3 seeds
    python benchmarks/active_learning.py --score-on train-slice --out runs/al-val.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import themesift  # noqa: E402
from common import GOLD, REPO, require  # noqa: E402
from themesift.training.evaluate import evaluate_label_sets  # noqa: E402
from themesift.training.suggest import suggest  # noqa: E402

BUDGETS = (250, 500, 1000, 2000)
ARMS = ("random", "suggest")
METRICS = ("f1", "f1_at_0.5")
SLICE_SEED = 1234  # the held-out train slice of --score-on train-slice


def read_rows(path: Path) -> list[dict]:
    with open(require(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fit(rows: list[dict], seed: int) -> themesift.ThemeClassifier:
    """The family's normal training: thresholds on a seeded, stratified slice of the labeled rows."""
    return themesift.train([r["text"] for r in rows], [r["labels"] for r in rows], family="tfidf", seed=seed)


def score(model, rows: list[dict]) -> dict:
    """theme:polarity micro F1 with the model's thresholds (gold themes it does not know count as
    misses) and with every threshold at 0.5."""
    texts, gold = [r["text"] for r in rows], [r["labels"] for r in rows]
    tuned = themesift.evaluate(model, texts, gold)["theme_polarity"]["micro"]["f1"]
    proba, kept = model.predict_proba(texts), model.thresholds_.copy()
    model.set_thresholds(np.full(len(kept), 0.5))
    flat = evaluate_label_sets(gold, model.decode(proba))["theme_polarity"]["micro"]["f1"]
    model.set_thresholds(kept)
    return {"f1": tuned, "f1_at_0.5": flat}


def pick(arm: str, model, pool: list[dict], labeled: list[int], k: int, rng: np.random.Generator) -> list[int]:
    """``k`` pool indices not yet labeled: suggest()'s picks, or random ones (suggest topped up at
    random in the rare case it returns fewer, e.g. when near-duplicates run the pool dry)."""
    taken = set(labeled)
    rest = [i for i in range(len(pool)) if i not in taken]
    chosen: list[int] = []
    if arm == "suggest":
        table = suggest(model, [pool[i]["text"] for i in rest], k, exclude=[pool[i]["text"] for i in labeled])
        chosen = [rest[r - 1] for r in table["row"]]
    if k > len(chosen):
        left = sorted(set(rest) - set(chosen))
        chosen += [int(i) for i in rng.choice(left, size=k - len(chosen), replace=False)]
    return chosen


def describe(rows: list[dict]) -> dict:
    """What a batch of picks costs and holds: words and gold labels per comment."""
    return {
        "words_per_comment": round(float(np.mean([len(r["text"].split()) for r in rows])), 1),
        "labels_per_comment": round(float(np.mean([len(r["labels"]) for r in rows])), 2),
        "no_label_share": round(float(np.mean([not r["labels"] for r in rows])), 3),
    }


def run_arm(arm: str, pool: list[dict], target: list[dict], seed: int, start: int, budgets) -> list[dict]:
    """Grow one labeled set from the seed set through every budget; one score per budget."""
    labeled = [int(i) for i in np.random.default_rng(seed).choice(len(pool), size=start, replace=False)]
    rng = np.random.default_rng([seed, ARMS.index(arm)])
    model = fit([pool[i] for i in labeled], seed)
    out = [{"arm": arm, "seed": seed, "labels": start, **score(model, target), "seconds": 0.0}]
    for budget in budgets:
        started = time.time()
        labeled += pick(arm, model, pool, labeled, budget - len(labeled), rng)
        model = fit([pool[i] for i in labeled], seed)
        out.append({"arm": arm, "seed": seed, "labels": budget, **score(model, target)})
        out[-1].update(picked=describe([pool[i] for i in labeled[start:]]), seconds=round(time.time() - started, 1))
        print(f"{arm:8s} seed {seed} {budget:5d} labels: F1 {out[-1]['f1']:.4f}", file=sys.stderr, flush=True)
    return out


def _stats(values: np.ndarray) -> dict:
    spread = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": round(float(values.mean()), 4), "std": round(spread, 4), "min": float(values.min())}


def summarize(runs: list[dict], budgets) -> list[dict]:
    """Mean and spread per budget, arm and metric, and suggest minus random (paired by seed)."""
    out, runs = [], sorted(runs, key=lambda r: r["seed"])
    for b in budgets:
        row: dict = {"labels": b}
        for m in METRICS:
            f = {a: np.array([r[m] for r in runs if (r["arm"], r["labels"]) == (a, b)]) for a in ARMS}
            diff = f["suggest"] - f["random"]
            row[m] = {a: _stats(f[a]) for a in ARMS}
            row[m]["suggest_minus_random"] = {"mean": round(float(diff.mean()), 4), "min": round(float(diff.min()), 4)}
        out.append(row)
    return out


def markdown(result: dict) -> str:
    lines = [
        f"# Simulated active learning: ex-cx-gold train as the pool, scored on {result['score_on']}",
        "",
        f"theme:polarity micro F1 of `tfidf`, mean ± sd over {result['seeds']} seeds; both arms start from the "
        f"same {result['start']}-row random seed set, which counts toward the labels. `f1`: thresholds as "
        "`themesift.train` tunes them (a 10% slice of the labeled rows); `f1 at 0.5`: the same models, every "
        "threshold 0.5. Δ: suggest − random, mean and worst seed.",
        "",
        "| labels | random f1 | suggest f1 | Δ f1 | random f1 at 0.5 | suggest f1 at 0.5 | Δ f1 at 0.5 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["summary"]:
        cells = [f"{r['labels']:,}"]
        for m in METRICS:
            s = r[m]
            d = s["suggest_minus_random"]
            cells += [f"{s[a]['mean']:.4f} ± {s[a]['std']:.4f}" for a in ARMS] + [f"{d['mean']:+.4f} ({d['min']:+.4f})"]
        lines.append("| " + " | ".join(cells) + " |")
    last = max(result["summary"], key=lambda r: r["labels"])["labels"]
    picked = {a: [r["picked"] for r in result["runs"] if (r["arm"], r["labels"]) == (a, last)] for a in ARMS}
    lines += ["", f"Comments picked after the seed set, at {last:,} labels (mean over seeds):", ""]
    for a in ARMS:
        p = {k: np.mean([x[k] for x in picked[a]]) for k in picked[a][0]}
        lines.append(
            f"- {a}: {p['words_per_comment']:.1f} words, {p['labels_per_comment']:.2f} gold labels, "
            f"{p['no_label_share']:.0%} with no label"
        )
    return "\n".join(lines + ["", f"`{result['command']}`", ""])


def chart(runs: list[dict], path: Path, title: str) -> None:
    """Learning curves (mean over seeds bold, each seed faint), plotly HTML loading plotly.js from its CDN."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs = sorted({r["labels"] for r in runs})
    for arm, color in zip(ARMS, ("#888888", "#1f77b4")):
        for seed in sorted({r["seed"] for r in runs}):
            mine = sorted((r["labels"], r["f1"]) for r in runs if (r["arm"], r["seed"]) == (arm, seed))
            faint = {"color": color, "width": 1}
            fig.add_scatter(x=[m[0] for m in mine], y=[m[1] for m in mine], mode="lines", line=faint, opacity=0.3)
            fig.data[-1].update(showlegend=False, hoverinfo="skip")
        mean = [np.mean([r["f1"] for r in runs if (r["arm"], r["labels"]) == (arm, x)]) for x in xs]
        fig.add_scatter(x=xs, y=mean, mode="lines+markers", name=arm, line={"color": color, "width": 3})
    fig.update_layout(title=title, template="plotly_white", width=760, height=440)
    fig.update_xaxes(title="labeled comments", type="log", tickvals=xs)
    fig.update_yaxes(title="theme:polarity micro F1")
    path.write_text(fig.to_html(include_plotlyjs="cdn", full_html=True), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--start", type=int, default=100, help="random seed-set size (counts toward the budget)")
    ap.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    ap.add_argument("--score-on", choices=("dev", "train-slice"), default="dev")
    ap.add_argument("--slice", type=int, default=800, help="rows of train held out for --score-on train-slice")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "active_learning.json")
    args = ap.parse_args(argv)
    pool = read_rows(GOLD / "train.jsonl")
    if args.score_on == "dev":
        target, score_on = read_rows(GOLD / "dev.jsonl"), "ex-cx-gold dev"
    else:
        held = set(np.random.default_rng(SLICE_SEED).choice(len(pool), size=args.slice, replace=False).tolist())
        target = [r for i, r in enumerate(pool) if i in held]
        pool = [r for i, r in enumerate(pool) if i not in held]
        score_on = f"{args.slice} rows of ex-cx-gold train held out of the pool (seed {SLICE_SEED})"
    runs = [
        r
        for seed in range(args.seeds)
        for arm in ARMS
        for r in run_arm(arm, pool, target, seed, args.start, args.budgets)
    ]
    summary = summarize(runs, args.budgets)
    result = {
        "what": "simulated active learning: suggest() against random picks, tfidf, gold labels as the oracle",
        "pool": f"ex-cx-gold train ({len(pool)} rows)",
        "score_on": score_on,
        "metric": "theme_polarity micro F1 (themesift.evaluate); f1_at_0.5: the same models, thresholds 0.5",
        "start": args.start,
        "seeds": args.seeds,
        "command": " ".join(["python benchmarks/active_learning.py", *(sys.argv[1:] if argv is None else argv)]),
        "suggest_ahead_at_every_budget": {
            m: all(r[m]["suggest_minus_random"]["mean"] > 0 for r in summary) for m in METRICS
        },
        "summary": summary,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    chart(runs, args.out.with_suffix(".html"), f"suggest against random picks, tfidf, scored on {score_on}")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
