"""EX-CX link (themesift.analysis.link): a planted unit-level link is found with an interval, a
null stays quiet, too few units is refused, and the lag pairs employee t with customer t + lag."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themesift.analysis.drivers import AnalysisError
from themesift.analysis.link import link, period_units, unit_profile


def _stores(rng, n_units=40, per_unit=30, strength=1.0):
    """Real-looking units: each store's staff stress drives employee work-life complaints and,
    with ``strength``, customers' complaints about staff."""
    emp_labels, emp_units, cus_labels, cus_units = [], [], [], []
    for u in range(n_units):
        stress = rng.random()
        for _ in range(per_unit):
            e = ["work_life_balance:negative"] if rng.random() < 0.1 + 0.5 * stress else ["teamwork_culture:positive"]
            if rng.random() < 0.3:
                e.append("pay_benefits:negative")
            emp_labels.append(e)
            emp_units.append(f"store-{u}")
            p = 0.1 + 0.5 * (stress if strength else rng.random())
            cus_labels.append(["staff_service:negative"] if rng.random() < p else ["product_quality:positive"])
            cus_units.append(f"store-{u}")
    return emp_labels, emp_units, cus_labels, cus_units


def test_planted_link_is_found():
    rng = np.random.default_rng(9)
    e, eu, c, cu = _stores(rng)
    table = link(unit_profile(e, eu)[0], unit_profile(c, cu)[0], bootstrap=300)
    row = table[(table["employee_theme"] == "work_life_balance:negative")
                & (table["customer_theme"] == "staff_service:negative")].iloc[0]
    assert row["units"] == 40 and row["rho"] > 0.5 and row["ci_low"] > 0.2 and row["q_value"] < 0.05
    unrelated = table[table["employee_theme"] == "pay_benefits:negative"]
    assert (unrelated["q_value"] >= 0.05).all()


def test_null_flags_at_most_five_percent():
    rng = np.random.default_rng(10)
    flagged = []
    for _ in range(10):
        e, eu, c, cu = _stores(rng, strength=0)
        table = link(unit_profile(e, eu)[0], unit_profile(c, cu)[0], bootstrap=50)
        flagged += list(table["q_value"] < 0.05)
    assert np.mean(flagged) <= 0.05


def test_too_few_units_and_small_units():
    rng = np.random.default_rng(11)
    e, eu, c, cu = _stores(rng, n_units=8)
    with pytest.raises(AnalysisError, match="only 8 units .* at least 10"):
        link(unit_profile(e, eu)[0], unit_profile(c, cu)[0])
    profile, small = unit_profile([["a:negative"]] * 12 + [["a:positive"]] * 3, ["x"] * 12 + ["y"] * 3)
    assert list(profile.index) == ["x"] and small == 1


def test_lag_pairs_employee_period_with_a_later_customer_period():
    keys, bad = period_units(["s1", "s1", "s2"], ["2026-02-10", "2026-05-01", "not a date"], "quarter", lag=1)
    assert keys == ["s1 @ 2025Q4", "s1 @ 2026Q1", None] and bad == [3]


def test_cli_link(tmp_path, capsys):
    from themesift.cli import main

    rng = np.random.default_rng(12)
    e, eu, c, cu = _stores(rng, n_units=20, per_unit=12)
    pd.DataFrame({"store": eu, "themes": ["; ".join(x) for x in e], "error": ""}).to_csv(tmp_path / "ex.csv",
                                                                                         index=False)
    csat = [2 if "staff_service:negative" in x else 5 for x in c]
    pd.DataFrame({"store": cu, "themes": ["; ".join(x) for x in c], "csat": csat}).to_parquet(tmp_path / "cx.parquet")
    out = tmp_path / "link.csv"
    assert main(["link", str(tmp_path / "ex.csv"), str(tmp_path / "cx.parquet"), "--unit", "store",
                 "--customer-score", "csat", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert {"employee_theme", "customer_theme", "units", "rho", "ci_low", "ci_high", "p_value", "q_value"} <= set(table)
    assert "mean:csat" in set(table["customer_theme"])
    assert "units, not people" in capsys.readouterr().out
    assert main(["link", str(tmp_path / "ex.csv"), str(tmp_path / "cx.parquet"), "--unit", "store",
                 "--min-units", "30"]) == 2
    assert "only 20 units" in capsys.readouterr().err
