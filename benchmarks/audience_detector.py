"""Build and check the default model's audience detector (employee or customer, from the text).

    python benchmarks/audience_detector.py --loio --json benchmarks/results/audience_detector.json
    python benchmarks/audience_detector.py --save themesift/default_model/audience   # ship it
    python benchmarks/audience_detector.py --C 8 --customer-prior 0.5 --loio   # the previous recipe

Trained on exactly the default model's training rows (``cx_data.py --extra``: ex-cx-gold train +
train-extra + cx-gold train, 26,927 comments, each row's audience from its ``source``) with
``AudienceModel.fit``, the recipe ``themesift train`` uses, so the shipped detector is what
training the default model again would store. No unlabeled text is added (the 119k employee
reviews of ../shared/data/employee-reviews and the airline/SemEval train splits were tried and
made left-out industries worse: benchmarks/NOTES.md).

Scored on ex-cx-gold dev and cx-gold dev, and with ``--loio`` on each cx-gold industry left out:
the detector is trained without that industry's cx-gold train rows and scored on its dev rows,
which is what a customer export from an industry nobody labeled gets. Test is never read here
(``audience_accuracy.py --split test`` scores the shipped model once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cx_data import CX, EX, rows  # noqa: E402

from common import SHARED  # noqa: E402


def fit(records: list[dict], C: float, prior: float):
    """A detector on ``records`` with the given recipe knobs (the module's defaults otherwise)."""
    from themesift.models.audience import AudienceModel
    from themesift.models.taxonomy import load_taxonomy

    texts, audiences = [r["text"] for r in records], [r["audience"] for r in records]
    return AudienceModel.fit(load_taxonomy().audiences(), texts, audiences, customer_prior=prior, C=C)


def accuracy(model, records: list[dict]) -> float:
    found = model.resolve([r["text"] for r in records], "auto")
    return round(sum(f == r["audience"] for f, r in zip(found, records)) / max(len(records), 1), 4)


def dev_scores(model, dev: dict[str, list[dict]]) -> dict:
    out = {name: {"rows": len(recs), "accuracy": accuracy(model, recs)} for name, recs in dev.items()}
    for name, recs in dev.items():
        employee = [r for r in recs if r["audience"] == "employee"]
        if employee:
            out[name]["employee_rows_accuracy"] = accuracy(model, employee)
    n = sum(len(r) for r in dev.values())
    out["both"] = round(sum(out[k]["accuracy"] * len(dev[k]) for k in dev) / n, 4)
    return out


def loio(train: list[dict], cx_dev: list[dict], C: float, prior: float) -> dict:
    """Per cx-gold industry: trained without its train rows, accuracy on its dev rows."""
    out: dict = {}
    right = 0
    for industry in sorted({r["industry"] for r in cx_dev}):
        held = [r for r in cx_dev if r["industry"] == industry]
        model = fit([r for r in train if r["industry"] != industry], C, prior)
        out[industry] = accuracy(model, held)
        right += round(out[industry] * len(held))
        print(f"  left out {industry}: {out[industry]}", flush=True)
    out["all_left_out_rows"] = round(right / len(cx_dev), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    from themesift.models import audience as aud

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--C", type=float, default=aud.DEFAULT_C, help=f"inverse L2 strength (recipe: {aud.DEFAULT_C})")
    ap.add_argument("--customer-prior", type=float, default=aud.CUSTOMER_PRIOR, help="P(customer) before the text")
    ap.add_argument("--loio", action="store_true", help="also leave each cx-gold industry out (9 more fits)")
    ap.add_argument("--save", default=None, help="write the detector to this audience/ folder")
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args(argv)
    started = time.time()
    train = rows([EX / "train.jsonl", CX / "train.jsonl", EX / "train-extra.jsonl"], set(), set())
    dev = {"ex-cx-gold": rows([EX / "dev.jsonl"], set(), set()), "cx-gold": rows([CX / "dev.jsonl"], set(), set())}
    model = fit(train, args.C, args.customer_prior)
    out: dict = {
        "command": "python benchmarks/" + " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "recipe": {"C": args.C, "customer_prior": args.customer_prior, "analyzers": list(aud.ANALYZERS)},
        "train": {"files": ["ex-cx-gold/train", "cx-gold/train", "ex-cx-gold/train-extra"], "rows": len(train)},
        "dev": dev_scores(model, dev),
    }
    print("dev", json.dumps(out["dev"]), flush=True)
    if args.loio:
        out["leave_one_industry_out_cx_gold_dev"] = loio(train, dev["cx-gold"], args.C, args.customer_prior)
        print("left-out industries, all rows:", out["leave_one_industry_out_cx_gold_dev"]["all_left_out_rows"])
    if args.save:
        model.save(Path(args.save))
        print(f"saved to {args.save}")
    out["seconds"] = round(time.time() - started)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    if not (SHARED / "data" / "cx-gold").exists():
        print(f"skipped: {SHARED / 'data'} not found")
        sys.exit(0)
    sys.exit(main())
