"""Drivers validity check that needs no labels (issue: analysis layer).

Public employee reviews carry an overall rating and sub-ratings (work-life balance, culture,
career opportunities, compensation, senior management). Classify the first N pros/cons comments
that have all five sub-ratings with the shipped model, run ``themesift.analysis.drivers`` once
per sub-rating, and check that each checked label moves its own sub-rating most (down for a
negative label, up for a positive one), with its 95 % interval there excluding zero.

    python benchmarks/drivers_validity.py [-n 4000] [-o benchmarks/results/drivers_validity.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POOL, REPO, require  # noqa: E402
from themesift import predict  # noqa: E402
from themesift.analysis import drivers  # noqa: E402

SUBRATINGS = ("work_life_balance", "culture_values", "career_opportunities", "comp_benefits", "senior_management")
OWN_SUBRATING = {
    "work_life_balance:negative": "work_life_balance",
    "work_life_balance:positive": "work_life_balance",
    "pay_benefits:negative": "comp_benefits",
    "pay_benefits:positive": "comp_benefits",
    "growth_development:negative": "career_opportunities",
    "growth_development:positive": "career_opportunities",
    "leadership_direction:negative": "senior_management",
}
# checked here too, beyond the seven above (the test on 1,000 comments checks those seven)
MORE = {"teamwork_culture:negative": "culture_values", "teamwork_culture:positive": "culture_values"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=4000)
    parser.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "results" / "drivers_validity.json"))
    args = parser.parse_args()
    rows = []
    with open(require(POOL), encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("field") in ("pros", "cons") and len(row.get("subratings") or {}) >= 5:
                rows.append(row)
                if len(rows) >= args.n:
                    break
    start = time.perf_counter()
    labels = [r["labels"] for r in predict([r["text"] for r in rows], audience="employee")]
    seconds = time.perf_counter() - start
    tables = {s: drivers(labels, [r["subratings"].get(s) for r in rows]).set_index("label") for s in SUBRATINGS}
    checks = []
    for label, own in {**OWN_SUBRATING, **MORE}.items():
        sign = -1 if label.endswith(":negative") else 1
        impacts = {s: round(float(tables[s].loc[label, "impact"]), 4) for s in SUBRATINGS}
        row = tables[own].loc[label]
        checks.append(
            {
                "label": label,
                "own_subrating": own,
                "n": int(row["n"]),
                "impacts": impacts,
                "own_ci": [round(float(row["ci_low"]), 4), round(float(row["ci_high"]), 4)],
                "moves_own_most": max(impacts, key=lambda s: sign * impacts[s]) == own,
                "interval_excludes_zero": bool(row["ci_high"] < 0 if sign < 0 else row["ci_low"] > 0),
            }
        )
        print(checks[-1], flush=True)
    passed = sum(c["moves_own_most"] and c["interval_excludes_zero"] for c in checks)
    result = {
        "comments": len(rows),
        "classify_seconds": round(seconds, 1),
        "scored_per_subrating": {s: tables[s].attrs["n_scored"] for s in SUBRATINGS},
        "passed": passed,
        "checked": len(checks),
        "checks": checks,
    }
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{passed} of {len(checks)} labels pass; wrote {args.output}")


if __name__ == "__main__":
    main()
