"""Employee themes linked to customer themes by unit: the service-profit chain, measured.

Both files are classified comments with a shared unit key (store, branch, team, site). Per unit,
each label's share of that unit's comments (and the mean of any numeric score column named, e.g.
a unit's CSAT) is computed on each side; then every employee label is paired with every customer
label across the units both sides have: Spearman's rho (ranks, so a few large stores do not
dominate and no linearity is assumed), a 95 % percentile bootstrap interval over units, a
permutation p-value (20,000 shuffles of the units) and Benjamini-Hochberg q-values over all pairs.

With a time column and ``lag``, the unit of analysis is a unit in a period: employee period t is
paired with customer period t + lag (Harter et al. 2010 found employee perceptions lead customer
loyalty). Units (or unit-periods) with fewer than ``min_group_size`` comments on either side are
left out, for anonymity and because a share of 3 comments is noise; they are counted. A label
mentioned in fewer than 5 of the shared units is not correlated: with so many zero shares, ties
make rho close to +-1 by accident (a null simulation flagged such pairs in 11 of 20 runs before
this rule; benchmarks/link_simulation.py). These are correlations between units, not people,
and not causes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from themesift.analysis.drivers import AnalysisError, bh_qvalues, label_matrix
from themesift.analysis.groups import group_names
from themesift.analysis.scores import parse_scores
from themesift.analysis.trends import parse_dates

LINK_COLUMNS = ["employee_theme", "customer_theme", "units", "rho", "ci_low", "ci_high", "p_value", "q_value"]


def unit_profile(
    label_sets: Sequence[Iterable[str] | None],
    units: Sequence[object],
    *,
    scores: dict[str, Sequence[object]] | None = None,
    min_group_size: int = 5,
) -> tuple[pd.DataFrame, int]:
    """Per unit: comments, each label's share, each score's mean; and how many units were too small."""
    keep = np.array([labels is not None for labels in label_sets], dtype=bool)
    names = pd.Series(group_names(units))[keep].reset_index(drop=True)
    X = label_matrix([labels for labels, k in zip(label_sets, keep) if k]).astype(float)
    for name, values in (scores or {}).items():
        parsed, _ = parse_scores([v for v, k in zip(values, keep) if k])
        X[f"mean:{name}"] = parsed
    grouped = X.groupby(names.to_numpy())
    profile = grouped.mean()
    profile.insert(0, "comments", grouped.size())
    small = int((profile["comments"] < min_group_size).sum())
    return profile[profile["comments"] >= min_group_size], small


def _ranks(matrix: np.ndarray) -> np.ndarray:
    return pd.DataFrame(matrix).rank(axis=0).to_numpy()


def _spearman_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rho of every column of ``a`` with every column of ``b`` (NaN for constant columns)."""
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(axis=0), rb - rb.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = ra.T @ rb
        den = np.sqrt((ra**2).sum(axis=0))[:, None] * np.sqrt((rb**2).sum(axis=0))[None, :]
        return num / den


def _linkable(profile: pd.DataFrame, min_label_units: int) -> list[str]:
    """Columns worth correlating: a label mentioned in at least ``min_label_units`` units (with
    one or two, ties make rho +-1 by accident), a score that varies."""
    return [
        c
        for c in profile.columns
        if c != "comments"
        and profile[c].nunique() > 1
        and (c.startswith("mean:") or int((profile[c] > 0).sum()) >= min_label_units)
    ]


def link(
    employee: pd.DataFrame,
    customer: pd.DataFrame,
    *,
    min_units: int = 10,
    min_label_units: int = 5,
    bootstrap: int = 1000,
    permutations: int = 20000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Every employee column x customer column of two unit profiles (:func:`unit_profile`),
    over the units both have. Raises AnalysisError when fewer than ``min_units`` are shared.
    Labels mentioned in fewer than ``min_label_units`` of those units are left out."""
    shared = employee.index.intersection(customer.index)
    if len(shared) < min_units:
        raise AnalysisError(
            f"only {len(shared)} units have enough comments on both sides; a link across units "
            f"needs at least {min_units} (--min-units)"
        )
    e_cols, c_cols = _linkable(employee.loc[shared], min_label_units), _linkable(customer.loc[shared], min_label_units)
    if not e_cols or not c_cols:
        raise AnalysisError("no label varies across the shared units on one side: nothing to correlate")
    E, C = employee.loc[shared, e_cols].to_numpy(float), customer.loc[shared, c_cols].to_numpy(float)
    if np.isnan(E).any() or np.isnan(C).any():  # a score column with blanks in some unit: mean of what is there
        E, C = (
            pd.DataFrame(E).fillna(pd.DataFrame(E).mean()).to_numpy(),
            pd.DataFrame(C).fillna(pd.DataFrame(C).mean()).to_numpy(),
        )
    rho = _spearman_matrix(E, C)
    rng = np.random.default_rng(seed)
    n = len(shared)
    draws = np.empty((bootstrap,) + rho.shape)
    for b in range(bootstrap):
        idx = rng.integers(0, n, n)
        draws[b] = _spearman_matrix(E[idx], C[idx])
    tail = (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.nanquantile(draws, tail, axis=0), np.nanquantile(draws, 1 - tail, axis=0)
    p = _permutation_p(E, C, rho, permutations, rng)
    rows = [
        {
            "employee_theme": e,
            "customer_theme": c,
            "units": n,
            "rho": rho[i, j],
            "ci_low": low[i, j],
            "ci_high": high[i, j],
            "p_value": p[i, j],
        }
        for i, e in enumerate(e_cols)
        for j, c in enumerate(c_cols)
    ]
    out = pd.DataFrame(rows)
    out["q_value"] = bh_qvalues(out["p_value"])
    out["_strength"] = -out["rho"].abs()  # permutation p-values tie at their floor: the stronger rho first
    out = out.sort_values(["p_value", "_strength"], kind="stable")[LINK_COLUMNS].reset_index(drop=True)
    out.attrs.update(units=list(map(str, shared)), n_units=n)
    return out


def _permutation_p(E: np.ndarray, C: np.ndarray, rho: np.ndarray, permutations: int, rng) -> np.ndarray:
    """Two-sided permutation p-values of every rho: customer units shuffled against employee
    units. Exact under "no link" whatever the ties (many units share 0 mentions of a label, which
    makes the usual t approximation too optimistic). Ranks do not change under a shuffle, so each
    permutation is one small matrix product."""
    ra, rb = _ranks(E), _ranks(C)
    ra, rb = ra - ra.mean(axis=0), rb - rb.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt((ra**2).sum(axis=0))[:, None] * np.sqrt((rb**2).sum(axis=0))[None, :]
    target = np.abs(rho) - 1e-12
    exceed = np.zeros(rho.shape)
    done = 0
    while done < permutations:
        k = min(500, permutations - done)
        order = np.argsort(rng.random((k, len(rb))), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            perm = np.einsum("na,knb->kab", ra, rb[order]) / den
        exceed += (np.abs(perm) >= target).sum(axis=0)
        done += k
    p = (exceed + 1) / (permutations + 1)
    return np.where(np.isnan(rho), np.nan, p)


def period_units(
    units: Sequence[object], dates: Sequence[object], period: str, lag: int = 0, dayfirst: bool | None = None
) -> tuple[list[str | None], list[int]]:
    """Unit keys ``unit @ period`` (shifted ``lag`` periods back, so customer t + lag meets
    employee t), and the 1-based rows with no usable date."""
    from themesift.analysis.trends import _FREQ

    stamps, bad = parse_dates(dates, dayfirst)
    names = group_names(units)
    keys: list[str | None] = []
    for name, stamp in zip(names, stamps):
        if pd.isna(stamp):
            keys.append(None)
        else:
            keys.append(f"{name} @ {stamp.to_period(_FREQ[period]) - lag}")
    return keys, bad
