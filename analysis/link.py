"""Employee themes linked to customer themes by unit: the service-profit chain, measured.

Both files are classified comments with a shared unit key (store, branch, team, site). Per unit,
each label's share of that unit's comments (and the mean of any numeric score column named, e.g.
a unit's CSAT) is computed on each side; then every employee label is paired with every customer
label across the units both sides have: Spearman's rho (ranks, so a few large stores do not
dominate and no linearity is assumed), a 95 % percentile bootstrap interval over units, the
p-value and Benjamini-Hochberg q-values over all pairs.

With a time column and ``lag``, the unit of analysis is a unit in a period: employee period t is
paired with customer period t + lag (Harter et al. 2010 found employee perceptions lead customer
loyalty). Units (or unit-periods) with fewer than ``min_group_size`` comments on either side are
left out, for anonymity and because a share of 3 comments is noise; they are counted. These are
correlations between units, not people, and not causes.
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


def unit_profile(label_sets: Sequence[Iterable[str] | None], units: Sequence[object], *,
                 scores: dict[str, Sequence[object]] | None = None,
                 min_group_size: int = 5) -> tuple[pd.DataFrame, int]:
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


def link(employee: pd.DataFrame, customer: pd.DataFrame, *, min_units: int = 10, bootstrap: int = 1000,
         confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Every employee column x customer column of two unit profiles (:func:`unit_profile`),
    over the units both have. Raises AnalysisError when fewer than ``min_units`` are shared."""
    shared = employee.index.intersection(customer.index)
    if len(shared) < min_units:
        raise AnalysisError(f"only {len(shared)} units have enough comments on both sides; a link across units "
                            f"needs at least {min_units} (--min-units)")
    e_cols = [c for c in employee.columns if c != "comments" and employee.loc[shared, c].nunique() > 1]
    c_cols = [c for c in customer.columns if c != "comments" and customer.loc[shared, c].nunique() > 1]
    if not e_cols or not c_cols:
        raise AnalysisError("no label varies across the shared units on one side: nothing to correlate")
    E, C = employee.loc[shared, e_cols].to_numpy(float), customer.loc[shared, c_cols].to_numpy(float)
    if np.isnan(E).any() or np.isnan(C).any():  # a score column with blanks in some unit: mean of what is there
        E, C = pd.DataFrame(E).fillna(pd.DataFrame(E).mean()).to_numpy(), pd.DataFrame(C).fillna(
            pd.DataFrame(C).mean()).to_numpy()
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
    from scipy import stats

    with np.errstate(invalid="ignore", divide="ignore"):
        t = rho * np.sqrt((n - 2) / np.clip(1 - rho**2, 1e-12, None))
    p = 2 * stats.t.sf(np.abs(t), n - 2)
    rows = [{"employee_theme": e, "customer_theme": c, "units": n, "rho": rho[i, j], "ci_low": low[i, j],
             "ci_high": high[i, j], "p_value": p[i, j]}
            for i, e in enumerate(e_cols) for j, c in enumerate(c_cols)]
    out = pd.DataFrame(rows)
    out["q_value"] = bh_qvalues(out["p_value"])
    out = out[LINK_COLUMNS].sort_values("p_value", kind="stable").reset_index(drop=True)
    out.attrs.update(units=list(map(str, shared)), n_units=n)
    return out


def period_units(units: Sequence[object], dates: Sequence[object], period: str, lag: int = 0,
                 dayfirst: bool | None = None) -> tuple[list[str | None], list[int]]:
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
