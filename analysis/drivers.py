"""Key drivers: how much each ``theme:polarity`` label moves a score, with an interval.

Why one model over all labels together: themes co-occur ("pay is low and nobody gets promoted"),
so a label's plain difference in means also carries the labels it travels with. Ordinary least
squares of the score on every estimated label's 0/1 indicator (plus an intercept: the comments
with none of them) gives each label's ``impact`` holding the others fixed. Scores are bounded and
skewed (ratings, NPS), so the standard errors are heteroskedasticity-robust (HC3, statsmodels),
and the p-values are corrected for the many labels tested at once with Benjamini-Hochberg
(``q_value``).

Beside it, for readers of Thematic: ``score_without`` is the mean score of the comments that do
not carry the label, and ``delta_without`` = mean of all - ``score_without`` (how much the overall
figure would change if those comments were gone). It needs no model and takes credit shared with
correlated labels, so it is shown, not used for ranking.

Labels seen on fewer than ``min_count`` scored comments are listed with ``estimated=False`` and
no figures: an indicator on 12 comments gives an interval too wide to put on a slide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from themesift.analysis.scores import ScoreKind, parse_scores

DRIVER_COLUMNS = [
    "label",
    "theme",
    "polarity",
    "n",
    "share",
    "mean_with",
    "mean_without",
    "impact",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "score_without",
    "delta_without",
    "estimated",
]


class AnalysisError(ValueError):
    """A user error in an analysis (bad column, too few scored comments): one line for the CLI."""


def bh_qvalues(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN)."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        from statsmodels.stats.multitest import multipletests

        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def label_matrix(label_sets: Sequence[Iterable[str]]) -> pd.DataFrame:
    """One 0/1 column per label, in first-seen order."""
    columns: dict[str, np.ndarray] = {}
    n = len(label_sets)
    for i, labels in enumerate(label_sets):
        for label in labels:
            if label not in columns:
                columns[label] = np.zeros(n, dtype=np.int8)
            columns[label][i] = 1
    return pd.DataFrame(columns, index=range(n))


def drivers(
    label_sets: Sequence[Iterable[str]],
    scores: Sequence[object],
    *,
    kind: ScoreKind = "mean",
    min_count: int = 30,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each label's impact on the score, sorted by impact (largest first; not estimated last).

    ``label_sets``: the labels of each comment (``theme:polarity``; None for a comment that was
    not classified, which is left out); ``scores``: one value per comment. A score that is blank
    or not a number excludes its comment: those rows are in ``result.attrs["excluded_rows"]``
    (1-based) and counted in ``result.attrs["n_excluded"]``.
    ``kind="nps"`` turns 0-10 likelihood-to-recommend into promoter 100 / passive 0 / detractor
    -100, so impacts read as NPS points."""
    if len(label_sets) != len(scores):
        raise AnalysisError(f"{len(label_sets)} label sets but {len(scores)} scores")
    if min_count < 1:
        raise AnalysisError(f"min_count must be at least 1, got {min_count}")
    y, bad = parse_scores(scores, kind)
    keep = ~np.isnan(y) & np.array([labels is not None for labels in label_sets], dtype=bool)
    y = y[keep]
    X_all = label_matrix([labels for labels, k in zip(label_sets, keep) if k])
    if len(y) < 2:
        raise AnalysisError(f"only {len(y)} comments have a usable score; drivers need more")
    if np.ptp(y) == 0:
        hint = " (as NPS, 0-6 are all detractors: is it a 0-10 likelihood to recommend?)" if kind == "nps" else ""
        raise AnalysisError(f"every usable score is {y[0]:g}{hint}: nothing for the themes to explain")
    counts = X_all.sum(axis=0) if len(X_all.columns) else pd.Series(dtype=int)
    estimated = [c for c in X_all.columns if min_count <= counts[c] < len(y)]
    rows = []
    fit = _robust_ols(X_all[estimated].to_numpy(dtype=float), y, confidence) if estimated else None
    overall = float(y.mean())
    for label in X_all.columns:
        x = X_all[label].to_numpy().astype(bool)
        theme, _, polarity = label.partition(":")
        row = {
            "label": label,
            "theme": theme,
            "polarity": polarity or None,
            "n": int(x.sum()),
            "share": float(x.mean()),
            "mean_with": float(y[x].mean()),
            "mean_without": float(y[~x].mean()) if (~x).any() else np.nan,
            "impact": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "estimated": label in estimated,
        }
        row["score_without"] = row["mean_without"]
        row["delta_without"] = overall - row["mean_without"]
        if row["estimated"]:
            k = estimated.index(label) + 1  # column 0 is the intercept
            row.update(impact=fit["params"][k], ci_low=fit["ci"][k, 0], ci_high=fit["ci"][k, 1], p_value=fit["p"][k])
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in DRIVER_COLUMNS if c != "q_value"])
    out.insert(out.columns.get_loc("p_value") + 1, "q_value", bh_qvalues(out["p_value"]))
    out = out.sort_values(["estimated", "impact"], ascending=[False, False], na_position="last", kind="stable")
    out = out.reset_index(drop=True)
    out.attrs.update(
        n_scored=int(len(y)),
        mean_score=overall,
        n_excluded=len(bad),
        excluded_rows=bad,
        intercept=float(fit["params"][0]) if fit else overall,
        kind=kind,
        min_count=min_count,
    )
    return out


def _robust_ols(X: np.ndarray, y: np.ndarray, confidence: float) -> dict:
    """OLS with an intercept and HC3 standard errors; aliased columns get NaN, not a crash."""
    import statsmodels.api as sm

    design = sm.add_constant(X, has_constant="add")
    result = sm.OLS(y, design).fit(cov_type="HC3")
    ci = np.asarray(result.conf_int(alpha=1 - confidence))
    return {"params": np.asarray(result.params), "ci": ci, "p": np.asarray(result.pvalues)}
