"""A ``themesift classify`` output as the analyses read it: each row's labels, or None if flagged.

Flagged rows (empty comments, bad cells: a non-empty ``error``) were never classified; they are
left out of every analysis rather than counted as comments without a theme.
"""
from __future__ import annotations

import os

import pandas as pd

from themesift.analysis.drivers import AnalysisError


def read_classified(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The table at ``path`` with the tool's columns under their plain names (``themes``...)."""
    from themesift.serve.report import _tool_view, read_predictions

    return _tool_view(read_predictions(path))


def row_labels(df: pd.DataFrame) -> list[list[str] | None]:
    """``theme:polarity`` labels per row (None for a flagged row), parsed by the one label parser."""
    from themesift.serve.report_tables import parse_predictions

    parsed = parse_predictions(df)
    return [sorted(f"{theme}:{polarity}" for theme, pols in labels.items() for polarity in sorted(pols)) if ok
            else None for labels, ok in zip(parsed.labels, parsed.classified)]


def column(df: pd.DataFrame, name: str, flag: str) -> pd.Series:
    if name not in df.columns:
        listed = ", ".join(repr(str(c)) for c in df.columns)
        raise AnalysisError(f"{flag}: no column {name!r}; columns are {listed}")
    return df[name]


def drivers_from_file(path: str | os.PathLike[str], score: str, *, kind: str = "mean",
                      min_count: int = 30) -> pd.DataFrame:
    """:func:`themesift.analysis.drivers` on a classify output and one of its score columns."""
    from themesift.analysis.drivers import drivers

    df = read_classified(path)
    return drivers(row_labels(df), column(df, score, "--score").tolist(), kind=kind, min_count=min_count)


def trends_from_file(path: str | os.PathLike[str], time: str, *, period: str = "month",
                     dayfirst: bool | None = None) -> pd.DataFrame:
    """:func:`themesift.analysis.trends` on a classify output and its date column."""
    from themesift.analysis.trends import trends

    df = read_classified(path)
    return trends(row_labels(df), column(df, time, "--time").tolist(), period=period, dayfirst=dayfirst)
