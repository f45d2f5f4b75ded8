"""``themesift link`` on simulated stores built from real labeled comments.

Employee comments come from ex-cx-gold train (employee sources), customer comments from cx-gold
train, each with its gold labels (what a perfect classifier would write). Each store has a hidden
driver d in [0, 1]; a store's employee comments carry ``work_life_balance:negative`` with
probability 0.05 + 0.4 d, and its customer comments carry ``staff_service:negative`` with
probability 0.05 + 0.4 d (linked) or 0.05 + 0.4 u with an independent u (null). With periods, d
moves from quarter to quarter and the customer side follows the employee side one quarter later.

    python benchmarks/link_simulation.py [--repeats 20] [-o benchmarks/results/link_simulation.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, require  # noqa: E402
from themesift.analysis.link import link, period_units, unit_profile  # noqa: E402

EMPLOYEE_LABEL, CUSTOMER_LABEL = "work_life_balance:negative", "staff_service:negative"
QUARTER_STARTS = ["2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15", "2027-01-15"]


def real_pools(limit: int | None = None) -> tuple[list[list[str]], list[list[str]]]:
    def read(path: Path, keep) -> list[list[str]]:
        with open(require(path), encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        return [r["labels"] for r in rows if keep(r)][:limit]

    employee = read(SHARED / "data" / "ex-cx-gold" / "train.jsonl", lambda r: r["source"].startswith("employee"))
    customer = read(SHARED / "data" / "cx-gold" / "train.jsonl", lambda r: True)
    return employee, customer


def _draw(rng, pool_with: list, pool_without: list, p: float, n: int) -> list[list[str]]:
    pools = (pool_without, pool_with)
    return [(pool := pools[int(rng.random() < p)])[rng.integers(len(pool))] for _ in range(n)]


def simulate(
    rng, employee_pool, customer_pool, *, stores: int = 40, per_side: int = 50, linked: bool = True, periods: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two classify-like tables (store, date, labels); with periods > 1 the customer side in
    quarter t + 1 follows the employee side in quarter t."""
    e_with = [x for x in employee_pool if EMPLOYEE_LABEL in x]
    e_without = [x for x in employee_pool if not any(lab.startswith("work_life_balance:") for lab in x)]
    c_with = [x for x in customer_pool if CUSTOMER_LABEL in x]
    c_without = [x for x in customer_pool if not any(lab.startswith("staff_service:") for lab in x)]
    emp, cus = [], []
    for s in range(stores):
        drivers = rng.random(periods + 1)  # employee driver per quarter; customers follow one quarter later
        null = rng.random(periods + 1)
        for t in range(periods):
            e_p = 0.05 + 0.4 * drivers[t]
            c_t = t if periods == 1 else t + 1
            c_p = 0.05 + 0.4 * (drivers[t] if linked else null[t])
            emp += [
                {"store": f"store-{s}", "date": QUARTER_STARTS[t], "labels": x}
                for x in _draw(rng, e_with, e_without, e_p, per_side)
            ]
            cus += [
                {"store": f"store-{s}", "date": QUARTER_STARTS[c_t], "labels": x}
                for x in _draw(rng, c_with, c_without, c_p, per_side)
            ]
    return pd.DataFrame(emp), pd.DataFrame(cus)


def run_link(emp: pd.DataFrame, cus: pd.DataFrame, *, lag: int | None = None, bootstrap: int = 300) -> pd.DataFrame:
    if lag is None:
        return link(
            unit_profile(emp["labels"].tolist(), emp["store"].tolist())[0],
            unit_profile(cus["labels"].tolist(), cus["store"].tolist())[0],
            bootstrap=bootstrap,
        )
    e_units, _ = period_units(emp["store"].tolist(), emp["date"].tolist(), "quarter", 0)
    c_units, _ = period_units(cus["store"].tolist(), cus["date"].tolist(), "quarter", lag)
    return link(
        unit_profile(emp["labels"].tolist(), e_units)[0],
        unit_profile(cus["labels"].tolist(), c_units)[0],
        bootstrap=bootstrap,
    )


def planted_row(table: pd.DataFrame) -> pd.Series:
    hit = table[(table["employee_theme"] == EMPLOYEE_LABEL) & (table["customer_theme"] == CUSTOMER_LABEL)]
    return hit.iloc[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "results" / "link_simulation.json"))
    args = parser.parse_args()
    employee_pool, customer_pool = real_pools()
    rng = np.random.default_rng(0)
    ranked_first = significant = null_any = 0
    lag_rho = {0: [], 1: []}
    for _ in range(args.repeats):
        table = run_link(*simulate(rng, employee_pool, customer_pool))
        row = planted_row(table)
        ranked_first += int(table.index[0] == row.name)
        significant += int(row["q_value"] < 0.05)
        null_any += int((run_link(*simulate(rng, employee_pool, customer_pool, linked=False))["q_value"] < 0.05).any())
        emp, cus = simulate(rng, employee_pool, customer_pool, periods=4, stores=40, per_side=25)
        for lag in (0, 1):
            lag_rho[lag].append(float(planted_row(run_link(emp, cus, lag=lag))["rho"]))
    result = {
        "stores": 40,
        "comments_per_store_and_side": 50,
        "repeats": args.repeats,
        "planted_pair_ranked_first": ranked_first,
        "planted_pair_q_below_0.05": significant,
        "null_runs_with_any_q_below_0.05": null_any,
        "lag_1_mean_rho": round(float(np.mean(lag_rho[1])), 3),
        "lag_0_mean_rho": round(float(np.mean(lag_rho[0])), 3),
    }
    print(result)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
