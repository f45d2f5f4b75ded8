"""EX-CX link (themesift.analysis.link) on stores simulated from real labeled comments
(benchmarks/link_simulation.py, small here): the planted pair ranks first with q < 0.05, a null
finds nothing, the lag finds a one-quarter delay, and bad input is one line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED
from themesift.analysis.link import period_units, unit_profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from link_simulation import CUSTOMER_LABEL, EMPLOYEE_LABEL, planted_row, real_pools, run_link, simulate  # noqa: E402


@pytest.fixture(scope="module")
def pools():
    if not (SHARED / "data" / "cx-gold" / "train.jsonl").is_file():
        pytest.skip("shared data not found")
    return real_pools()


def test_planted_pair_ranks_first(pools):
    table = run_link(*simulate(np.random.default_rng(1), *pools, stores=40, per_side=30), bootstrap=200)
    first = table.iloc[0]
    assert (first["employee_theme"], first["customer_theme"]) == (EMPLOYEE_LABEL, CUSTOMER_LABEL)
    assert first["q_value"] < 0.05 and first["ci_low"] > 0 and first["units"] == 40


def test_null_finds_no_link(pools):
    table = run_link(*simulate(np.random.default_rng(2), *pools, stores=40, per_side=30, linked=False), bootstrap=50)
    assert (table["q_value"] >= 0.05).all()


def test_lag_finds_the_quarter_delay(pools):
    emp, cus = simulate(np.random.default_rng(3), *pools, stores=30, per_side=20, periods=4)
    lagged, same = (
        planted_row(run_link(emp, cus, lag=1, bootstrap=50)),
        planted_row(run_link(emp, cus, lag=0, bootstrap=50)),
    )
    assert lagged["rho"] > 0.4 and lagged["q_value"] < 0.05 and lagged["rho"] > same["rho"] + 0.3


def test_lag_keys():
    keys, bad = period_units(["s1", "s1", "s2"], ["2026-02-10", "2026-05-01", "not a date"], "quarter", lag=1)
    assert keys == ["s1 @ 2025Q4", "s1 @ 2026Q1", None] and bad == [3]


def test_small_units_left_out_and_counted():
    profile, small = unit_profile([["a:negative"]] * 12 + [["a:positive"]] * 3, ["x"] * 12 + ["y"] * 3)
    assert list(profile.index) == ["x"] and small == 1


@pytest.fixture()
def files(tmp_path, pools):
    emp, cus = simulate(np.random.default_rng(4), *pools, stores=20, per_side=12)
    emp.assign(themes=emp.pop("labels").str.join("; "), error="").to_csv(tmp_path / "ex.csv", index=False)
    cus = cus.assign(
        themes=cus["labels"].str.join("; "), csat=[2 if CUSTOMER_LABEL in x else 5 for x in cus.pop("labels")]
    )
    cus.to_parquet(tmp_path / "cx.parquet")
    return tmp_path / "ex.csv", tmp_path / "cx.parquet"


def test_cli_link(files, tmp_path, capsys):
    from themesift.cli import main

    ex, cx = files
    out = tmp_path / "link.csv"
    assert main(["link", str(ex), str(cx), "--unit", "store", "--customer-score", "csat", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert {"employee_theme", "customer_theme", "units", "rho", "ci_low", "ci_high", "p_value", "q_value"} <= set(table)
    assert "mean:csat" in set(table["customer_theme"])
    assert "units, not people; correlation, not cause" in capsys.readouterr().out


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing-unit", "--unit: no column 'store'"),
        ("no-overlap", "only 0 units have enough comments on both sides"),
        ("one-unit", "only 1 units"),
        ("empty", "empty"),
        ("too-few", "at least 30 (--min-units)"),
    ],
)
def test_cli_link_bad_input_is_one_line(files, tmp_path, capsys, case, message):
    from themesift.cli import main

    ex, cx = files
    args = ["--unit", "store"]
    if case == "missing-unit":
        pd.read_parquet(cx).rename(columns={"store": "branch"}).to_parquet(tmp_path / "cx2.parquet")
        cx = tmp_path / "cx2.parquet"
    elif case == "no-overlap":
        frame = pd.read_parquet(cx)
        frame.assign(store="other-" + frame["store"]).to_parquet(tmp_path / "cx2.parquet")
        cx = tmp_path / "cx2.parquet"
    elif case == "one-unit":
        pd.read_csv(ex).assign(store="store-0").to_csv(tmp_path / "ex2.csv", index=False)
        pd.read_parquet(cx).assign(store="store-0").to_parquet(tmp_path / "cx2.parquet")
        ex, cx = tmp_path / "ex2.csv", tmp_path / "cx2.parquet"
    elif case == "empty":
        (tmp_path / "ex2.csv").write_text("", encoding="utf-8")
        ex = tmp_path / "ex2.csv"
    else:
        args += ["--min-units", "30"]
    assert main(["link", str(ex), str(cx), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
