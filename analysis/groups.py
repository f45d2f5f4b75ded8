"""Groups compared with the rest of the organisation, with the anonymity rules of survey tools.

For each group of a column (team, store, site) and each label: the group's share of comments
carrying it, the share among all other comments, the difference with a 95 % Newcombe interval, a
two-sided score test and Benjamini-Hochberg q-values over every group x label of the column.

Anonymity, as employee-survey tools do it and as the report does (one rule,
report.tables.suppressed_groups): a group with fewer than ``min_group_size`` comments is hidden
(no figures), and complemented so that none can be subtracted out of the total. Blank group
cells form the group ``(blank)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from themesift.analysis.drivers import AnalysisError, bh_qvalues, label_matrix
from themesift.analysis.trends import share_change
from themesift.nlp.cells import is_empty_cell
from themesift.report.tables import suppressed_groups

BLANK_GROUP = "(blank)"
GROUP_COLUMNS = [
    "group",
    "comments",
    "label",
    "theme",
    "polarity",
    "n",
    "share",
    "rest_share",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "suppressed",
]


def group_names(values: Iterable[object]) -> list[str]:
    return [BLANK_GROUP if is_empty_cell(v) else str(v).strip() for v in values]


def compare_groups(
    label_sets: Sequence[Iterable[str] | None],
    groups: Sequence[object],
    *,
    min_group_size: int = 5,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per shown group and label (each hidden group: one row, ``suppressed=True``, no figures)."""
    if len(label_sets) != len(groups):
        raise AnalysisError(f"{len(label_sets)} label sets but {len(groups)} group values")
    if min_group_size < 1:
        raise AnalysisError(f"min_group_size must be at least 1, got {min_group_size}")
    keep = np.array([labels is not None for labels in label_sets], dtype=bool)
    names = np.array(group_names(groups), dtype=object)[keep]
    X = label_matrix([labels for labels, k in zip(label_sets, keep) if k])
    sizes = {g: int((names == g).sum()) for g in dict.fromkeys(names)}
    hidden = suppressed_groups(sizes, min_group_size)
    total = len(names)
    rows = []
    for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
        if group in hidden:
            rows.append({"group": group, "suppressed": True})
            continue
        inside = names == group
        for label in X.columns:
            x = X[label].to_numpy().astype(bool)
            count, rest = int(x[inside].sum()), int(x[~inside].sum())
            theme, _, polarity = label.partition(":")
            row = {
                "group": group,
                "comments": sizes[group],
                "label": label,
                "theme": theme,
                "polarity": polarity or None,
                "n": count,
                "share": count / sizes[group],
                "suppressed": False,
            }
            if total > sizes[group]:
                row["rest_share"] = rest / (total - sizes[group])
                change = share_change(count, sizes[group], rest, total - sizes[group], confidence)
                row.update(
                    difference=change["change"],
                    ci_low=change["ci_low"],
                    ci_high=change["ci_high"],
                    p_value=change["p_value"],
                )
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in GROUP_COLUMNS if c != "q_value"])
    out.insert(out.columns.get_loc("p_value") + 1, "q_value", bh_qvalues(out["p_value"].astype(float)))
    out.attrs.update(
        group_sizes={g: (None if g in hidden else n) for g, n in sizes.items()},
        suppressed=sorted(hidden),
        min_group_size=min_group_size,
    )
    return out
