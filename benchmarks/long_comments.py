"""Long comments: encoder truncation against sentence windows (models.windows), on dev only.

No ex-cx-gold or cx-gold dev comment is over the encoder's 256 tokens (the longest is 225), so long
comments are made from real ones: consecutive dev comments of one source (cx-gold: one industry)
are joined until the text is over ``--min-tokens`` tokens, and its gold labels are the union of its
parts' labels. Joined texts where one theme would carry two polarities are left out (the model
gives a theme one polarity per comment). "Late" labels are those that only the parts starting
past the encoder's limit carry: what truncation cannot see. A second set puts each labeled dev
comment (up to ``--per-set``) after dev comments of the same side (employee or customer) that its
annotators found no theme in, drawn at random until the lead-in alone is past the limit: every gold
label is late there.

Three readings, same model, same texts: ``truncate`` (the encoder cuts at 256 tokens: the old
behaviour), ``windows-max`` (the shipped rule: each theme from the window where it is most
present) and ``windows-mean`` (the windows' probabilities averaged).

    python benchmarks/long_comments.py [--model DIR] [--min-tokens 300] [-o benchmarks/results/long_comments.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, require  # noqa: E402
from themesift.models import base as model_base  # noqa: E402
from themesift.models import windows  # noqa: E402
from themesift.serve.predict import load_model  # noqa: E402
from themesift.training.evaluate import evaluate_label_sets  # noqa: E402

DEV_SETS = {
    "ex-cx-gold": SHARED / "data" / "ex-cx-gold" / "dev.jsonl",
    "cx-gold": SHARED / "data" / "cx-gold" / "dev.jsonl",
}


def read_jsonl(path: Path) -> list[dict]:
    with open(require(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def joined_comments(rows: list[dict], count, min_tokens: int, limit: int) -> list[dict]:
    """Consecutive comments of one source joined into texts over ``min_tokens`` tokens."""
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(str(row.get("industry") or row.get("source") or ""), []).append(row)
    out = []
    for group in by_source.values():
        parts: list[dict] = []
        for row in group:
            parts.append(row)
            text = " ".join(p["text"].strip() for p in parts)
            if count([text])[0] <= min_tokens:
                continue
            labels = sorted({lab for p in parts for lab in p["labels"]})
            themes = [lab.split(":")[0] for lab in labels]
            if len(themes) == len(set(themes)):
                offsets = np.cumsum([0] + count([p["text"] for p in parts]))[:-1]
                early = {lab for p, o in zip(parts, offsets) if o < limit for lab in p["labels"]}
                out.append({"text": text, "labels": labels, "late": sorted(set(labels) - early)})
            parts = []
    return out


def side(row: dict) -> str:
    return "employee" if str(row.get("source", "")).startswith("employee") else "customer"


def after_filler(rows: list[dict], count, limit: int, n: int, seed: int = 0) -> list[dict]:
    """Each labeled comment placed after theme-free comments of the same side (employee or customer)
    that fill the encoder's window: a long employee comment reads as an employee's throughout."""
    rng = np.random.default_rng(seed)
    fillers: dict[str, list[str]] = {}
    for row in rows:
        if not row["labels"]:
            fillers.setdefault(side(row), []).append(row["text"].strip())
    sizes = {key: count(texts) for key, texts in fillers.items()}
    out = []
    for row in [r for r in rows if r["labels"] and side(r) in fillers][:n]:
        pool, pool_sizes = fillers[side(row)], sizes[side(row)]
        lead, used = [], 0
        while used <= limit:
            j = int(rng.integers(len(pool)))
            lead.append(pool[j])
            used += pool_sizes[j]
        out.append(
            {
                "text": " ".join(lead + [row["text"].strip()]),
                "labels": sorted(row["labels"]),
                "late": sorted(row["labels"]),
            }
        )
    return out


@contextmanager
def reading(mode: str):
    """Patch the model layer for one reading (benchmark only; the product has windows-max)."""
    saved_predict, saved_combine = model_base.ThemeClassifier._predict_windowed, model_base.combine_windows
    if mode == "truncate":
        model_base.ThemeClassifier._predict_windowed = lambda self, texts, audiences: self._predict_proba_as(
            texts, audiences
        )
    elif mode == "windows-mean":

        def mean_combine(proba, owner, n_texts):
            owner = np.asarray(owner)
            return np.stack([proba[owner == i].mean(axis=0) for i in range(n_texts)])

        model_base.combine_windows = mean_combine
    try:
        yield
    finally:
        model_base.ThemeClassifier._predict_windowed, model_base.combine_windows = saved_predict, saved_combine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--min-tokens", type=int, default=300)
    parser.add_argument("--per-set", type=int, default=200, help="labeled comments per set for the filler test")
    parser.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "results" / "long_comments.json"))
    args = parser.parse_args()
    model = load_model(args.model)
    count, max_tokens = model._window_limit()
    limit = max_tokens - windows.SPECIAL_TOKENS
    results: dict = {"model": args.model or "shipped default", "min_tokens": args.min_tokens, "sets": {}}
    cases = []
    for name, path in DEV_SETS.items():
        rows = read_jsonl(path)
        cases.append((f"{name} joined", joined_comments(rows, count, args.min_tokens, limit)))
        cases.append((f"{name} after filler", after_filler(rows, count, limit, args.per_set)))
    for name, long_rows in cases:
        texts, gold = [r["text"] for r in long_rows], [r["labels"] for r in long_rows]
        n_late = sum(len(r["late"]) for r in long_rows)
        entry = {
            "comments": len(long_rows),
            "mean_tokens": round(float(np.mean(count(texts))), 1),
            "late_labels": n_late,
        }
        for mode in ("truncate", "windows-max", "windows-mean"):
            with reading(mode):
                start = time.perf_counter()
                pred = model.predict(texts)
                seconds = time.perf_counter() - start
            metrics = evaluate_label_sets(gold, pred, themes=model.themes)
            late_hits = sum(len(set(r["late"]) & set(p)) for r, p in zip(long_rows, pred))
            entry[mode] = {
                "theme_polarity_micro_f1": metrics["theme_polarity"]["micro"]["f1"],
                "precision": metrics["theme_polarity"]["micro"]["precision"],
                "recall": metrics["theme_polarity"]["micro"]["recall"],
                "late_label_recall": round(late_hits / n_late, 4) if n_late else None,
                "seconds": round(seconds, 2),
            }
            print(name, mode, entry[mode], flush=True)
        results["sets"][name] = entry
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
