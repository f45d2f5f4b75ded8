"""Group comparisons (themesift.analysis.groups): a planted difference is found, a null stays
quiet, and anonymity holds: small groups hidden, complemented so none can be subtracted out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themesift.analysis import compare_groups, suppressed_groups


@pytest.fixture(scope="module")
def real_label_sets(gold_train):
    return [r["labels"] for r in gold_train[:2000]]


def test_planted_group_difference_is_found(real_label_sets):
    rng = np.random.default_rng(7)
    groups = rng.choice(["north", "south", "east", "west"], len(real_label_sets))
    wlb = "work_life_balance:negative"
    planted = [
        sorted({lab for lab in labels if not lab.startswith("work_life_balance:")} | {wlb})
        if g == "north" and rng.random() < 0.25
        else labels
        for labels, g in zip(real_label_sets, groups)
    ]
    table = compare_groups(planted, list(groups))
    north = table[(table["group"] == "north") & (table["label"] == "work_life_balance:negative")].iloc[0]
    assert north["q_value"] < 0.05 and north["ci_low"] > 0.1 and north["difference"] > 0.15
    other = table[(table["group"] != "north") & (table["label"] == "work_life_balance:negative")]
    assert (other["difference"] < 0).all()  # the rest now includes north's planted comments


def test_null_flags_at_most_five_percent(real_label_sets):
    rng = np.random.default_rng(8)
    flagged = []
    for _ in range(6):
        groups = rng.choice(list("ABCDE"), len(real_label_sets))
        table = compare_groups(real_label_sets, list(groups))
        flagged += list(table["q_value"].dropna() < 0.05)
    assert np.mean(flagged) <= 0.05


def test_complementary_suppression():
    assert suppressed_groups({"a": 50, "b": 40, "c": 3}, 5) == {"c", "b"}  # c alone could be subtracted out
    assert suppressed_groups({"a": 50, "b": 40, "c": 3, "d": 4}, 5) == {"c", "d"}  # 7 together: enough
    assert suppressed_groups({"a": 50, "b": 40, "c": 1, "d": 2}, 5) == {"c", "d", "b"}  # 3 together: not enough
    assert suppressed_groups({"a": 50, "b": 40}, 5) == set()


def test_hidden_groups_carry_no_figures():
    labels = [["pay:negative"]] * 30 + [[]] * 30 + [["pay:negative"]] * 3 + [[]] * 8
    groups = ["big"] * 60 + ["tiny"] * 3 + ["small"] * 8
    table = compare_groups(labels, groups, min_group_size=5)
    assert table.attrs["suppressed"] == ["small", "tiny"]
    hidden = table[table["suppressed"]]
    assert set(hidden["group"]) == {"small", "tiny"} and hidden["n"].isna().all() and hidden["comments"].isna().all()
    assert table.attrs["group_sizes"]["tiny"] is None
    big = table[table["group"] == "big"].iloc[0]
    assert big["share"] == 0.5 and big["rest_share"] == pytest.approx(3 / 11)


def test_report_hides_complementary_groups_and_their_examples(tmp_path):
    """One small store would be hidden alone and then found as the total minus the others; the
    report hides the next smallest too, and shows no example comment from either."""
    from themesift.report import build_report

    rows = [("big", f"Pay is far too low here, comment {i}.", "pay_benefits:negative") for i in range(30)]
    rows += [("mid", f"My manager is great, comment {i}.", "manager_support:positive") for i in range(8)]
    rows += [("tiny", "SECRET tiny store: the manager shouts at us.", "manager_support:negative") for _ in range(2)]
    frame = pd.DataFrame(rows, columns=["store", "comment", "themes"]).assign(error="")
    report = build_report(frame, by=["store"], min_group_size=5)
    assert "SECRET" not in report.html
    breakdown_html = report.html[report.html.index('id="by-0"') :]
    assert ">mid<" not in breakdown_html and ">big<" in breakdown_html
