"""How often ``auto`` gets the audience right, and how many employee themes land on customer comments.

    python benchmarks/audience_accuracy.py --split dev                     # while choosing
    python benchmarks/audience_accuracy.py --split test --json benchmarks/results/audience_test.json

The gold audience is each row's ``source`` prefix (``employee-…`` / ``customer-…``) in ex-cx-gold
and cx-gold. Reported per dataset and for both together: accuracy of the audience the default
model (or ``--model``) decides, and employee-only themes written per 100 customer comments (gold
labels of cx-gold hold 2 such labels in 630 test rows). Score ``test`` once, after every choice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, require  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from themesift.serve.predict import load_model, predict

    model = load_model(args.model)
    employee_themes = {
        t for t, a in (model.audience_.theme_audiences if model.audience_ else {}).items() if a == "employee"
    }
    out: dict = {
        "command": "python benchmarks/" + " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "split": args.split,
        "datasets": {},
    }
    right = total = 0
    for name in ("ex-cx-gold", "cx-gold"):
        records = [
            json.loads(line) for line in open(require(SHARED / "data" / name / f"{args.split}.jsonl"), encoding="utf-8")
        ]
        results = predict([r["text"] for r in records], model)
        gold = ["employee" if r["source"].startswith("employee") else "customer" for r in records]
        hits = [res["audience"] == g for res, g in zip(results, gold)]
        labeled = [h for h, r in zip(hits, records) if r["labels"]]
        customer = [res for res, g in zip(results, gold) if g == "customer"]
        wrong = sum(1 for res in customer for t in res["themes"] if t["theme"] in employee_themes)
        out["datasets"][name] = {
            "rows": len(records),
            "audience_accuracy": round(sum(hits) / len(hits), 4),
            "audience_accuracy_rows_with_labels": round(sum(labeled) / max(len(labeled), 1), 4),
            "customer_rows": len(customer),
            "employee_themes_per_100_customer_comments": round(100 * wrong / max(len(customer), 1), 2),
        }
        right, total = right + sum(hits), total + len(hits)
        print(name, json.dumps(out["datasets"][name]), flush=True)
    out["audience_accuracy_both"] = round(right / total, 4)
    print("both", out["audience_accuracy_both"])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
