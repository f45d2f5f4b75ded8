"""Change over time: each label's share of comments per period, and its change since the last one.

A share is the fraction of a period's classified comments that carry the label. Each period is
compared with the one before it: the difference in shares, its 95 % interval (Newcombe's hybrid
score interval, good at small counts and shares near 0) and a two-sided score test
(statsmodels), with Benjamini-Hochberg q-values over every label x period comparison, since a
dashboard of 40 labels x 4 quarters makes 160 tests and some will look significant by chance.

Dates come as exports write them: ISO (``2026-03-14``, with or without time), ``14/03/2026`` or
``03/14/2026``, Excel serial numbers, real datetimes. Slash dates are read day-first or
month-first from the data (a day above 12 decides); when nothing decides, the caller must say
(``dayfirst``), because guessing would move comments between months silently. A cell that is
not a date leaves its row out, reported by row number.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from themesift.analysis.drivers import AnalysisError, bh_qvalues, label_matrix
from themesift.nlp.cells import is_empty_cell

Period = Literal["week", "month", "quarter", "year"]
PERIODS = ("week", "month", "quarter", "year")
_FREQ = {"week": "W-MON", "month": "M", "quarter": "Q", "year": "Y"}
_SLASH = re.compile(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:[ T].*)?\s*$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
TREND_COLUMNS = [
    "label",
    "theme",
    "polarity",
    "period",
    "comments",
    "n",
    "share",
    "previous_period",
    "previous_share",
    "change",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
]


def _slash_order(values: Iterable[object]) -> bool | None:
    """True for day-first, False for month-first, None when no slash date decides."""
    day_first = month_first = False
    for value in values:
        match = _SLASH.match(str(value)) if isinstance(value, str) else None
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            day_first |= a > 12
            month_first |= b > 12
    if day_first and month_first:
        raise AnalysisError("dates mix day-first (31/01) and month-first (01/31) forms; fix the column")
    return True if day_first else (False if month_first else None)


def parse_dates(values: Sequence[object], dayfirst: bool | None = None) -> tuple[pd.Series, list[int]]:
    """Dates as Timestamps (NaT where unusable) and the 1-based rows that are not dates."""
    order = _slash_order(values) if dayfirst is None else dayfirst
    out, bad = [], []
    needs_order = False
    for i, value in enumerate(values):
        stamp = _one_date(value, order)
        if stamp is _AMBIGUOUS:
            needs_order, stamp = True, pd.NaT
        if pd.isna(stamp):
            bad.append(i + 1)
        out.append(stamp)
    if needs_order:
        raise AnalysisError(
            "dates like 03/04/2026 could be day-first or month-first and no date in the "
            "column decides: say which with --dayfirst or --monthfirst"
        )
    return pd.Series(pd.to_datetime(out), dtype="datetime64[ns]"), bad


_AMBIGUOUS = object()


def _one_date(value: object, order: bool | None):
    if is_empty_cell(value) or isinstance(value, bool):
        return pd.NaT
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        return pd.Timestamp(value).tz_localize(None) if pd.Timestamp(value).tzinfo else pd.Timestamp(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        # Excel serial day numbers (1955-2118); other numbers are not dates
        return _EXCEL_EPOCH + pd.Timedelta(days=float(value)) if 20000 <= float(value) <= 80000 else pd.NaT
    text = str(value).strip()
    match = _SLASH.match(text)
    if match:
        if order is None:
            a, b = int(match.group(1)), int(match.group(2))
            if a <= 12 and b <= 12 and a != b:
                return _AMBIGUOUS
        day, month = (match.group(1), match.group(2)) if order else (match.group(2), match.group(1))
        year = match.group(3) if len(match.group(3)) == 4 else "20" + match.group(3)
        return pd.to_datetime(f"{year}-{month}-{day}", errors="coerce", format="%Y-%m-%d")
    stamp = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if pd.isna(stamp):
        return pd.NaT
    return stamp.tz_convert(None) if stamp.tzinfo else stamp


def trends(
    label_sets: Sequence[Iterable[str] | None],
    dates: Sequence[object],
    *,
    period: Period = "month",
    dayfirst: bool | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per label and period: its share, and the change against the previous period.

    ``label_sets``: each comment's labels (None: not classified, left out); ``dates``: one per
    comment. Rows without a usable date are in ``result.attrs["excluded_rows"]`` (1-based)."""
    if period not in PERIODS:
        raise AnalysisError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    if len(label_sets) != len(dates):
        raise AnalysisError(f"{len(label_sets)} label sets but {len(dates)} dates")
    stamps, bad = parse_dates(dates, dayfirst)
    if len(dates) and stamps.isna().all():
        raise AnalysisError("no cell of the date column is a date (ISO, 14/03/2026, 03/14/2026, Excel serial)")
    keep = stamps.notna().to_numpy() & np.array([labels is not None for labels in label_sets], dtype=bool)
    periods = stamps[keep].dt.to_period(_FREQ[period]).astype(str).to_numpy()
    X = label_matrix([labels for labels, k in zip(label_sets, keep) if k])
    order = sorted(set(periods))
    totals = {p: int((periods == p).sum()) for p in order}
    rows = []
    for label in X.columns:
        counts = {p: int(X[label].to_numpy()[periods == p].sum()) for p in order}
        theme, _, polarity = label.partition(":")
        for k, p in enumerate(order):
            row = {
                "label": label,
                "theme": theme,
                "polarity": polarity or None,
                "period": p,
                "comments": totals[p],
                "n": counts[p],
                "share": counts[p] / totals[p],
            }
            if k:
                prev = order[k - 1]
                row.update(
                    previous_period=prev,
                    previous_share=counts[prev] / totals[prev],
                    **share_change(counts[p], totals[p], counts[prev], totals[prev], confidence),
                )
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in TREND_COLUMNS if c != "q_value"])
    out.insert(out.columns.get_loc("p_value") + 1, "q_value", bh_qvalues(out["p_value"]))
    out.attrs.update(periods=order, comments_per_period=totals, n_excluded=len(bad), excluded_rows=bad, period=period)
    return out


def share_change(count: int, total: int, prev_count: int, prev_total: int, confidence: float = 0.95) -> dict:
    """Difference of two shares (count/total - prev_count/prev_total): interval, test p-value."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    change = count / total - prev_count / prev_total
    if count + prev_count == 0 or count + prev_count == total + prev_total:
        return {"change": change, "ci_low": np.nan, "ci_high": np.nan, "p_value": 1.0}  # no variation to test
    with warnings.catch_warnings():  # statsmodels also computes ratios that are undefined at a zero count
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(
            count, total, prev_count, prev_total, method="newcomb", compare="diff", alpha=1 - confidence
        )
        p_value = test_proportions_2indep(count, total, prev_count, prev_total, method="score", compare="diff").pvalue
    return {"change": change, "ci_low": float(low), "ci_high": float(high), "p_value": float(p_value)}
