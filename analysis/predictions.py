"""Files as the analyses read them: each row's labels, or None for a row that was not classified.

A ``themesift classify`` output (it has a ``themes`` column) is used as it is; any other export
is classified on the fly with ``model`` (default: the shipped one), with the audience the
analysis implies (``link``: employee comments on one side, customer comments on the other).
Flagged rows (empty comments, bad cells) are left out of every analysis rather than counted as
comments without a theme.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from themesift.analysis.drivers import AnalysisError


def read_classified(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The table at ``path`` with the tool's columns under their plain names (``themes``...)."""
    from themesift.report.build import read_classified as read

    return read(path)


def row_labels(df: pd.DataFrame) -> list[list[str] | None]:
    """``theme:polarity`` labels per row (None for a flagged row), parsed by the one label parser."""
    from themesift.report.tables import parse_predictions

    parsed = parse_predictions(df)
    return [
        sorted(f"{theme}:{polarity}" for theme, pols in labels.items() for polarity in sorted(pols)) if ok else None
        for labels, ok in zip(parsed.labels, parsed.classified)
    ]


def labeled(
    path: str | os.PathLike[str],
    *,
    model: str | None = None,
    text_column: str | None = None,
    audience: str = "auto",
) -> tuple[pd.DataFrame, list[list[str] | None]]:
    """The table at ``path`` and each row's labels: its own ``themes`` when it is a classify
    output, else the model's (a progress bar on long files)."""
    df = read_classified(path)
    if "themes" in df.columns:
        return df, row_labels(df)
    from themesift.nlp.tables import resolve_text_column
    from themesift.serve.predict import predict

    texts = column(df, resolve_text_column(df.columns, text_column), "--text-column").tolist()
    labels: list[list[str] | None] = []
    chunks = range(0, len(texts), 512)
    if len(texts) > 2048:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=f"classifying {os.path.basename(str(path))}", unit="chunk")
    for start in chunks:
        results = predict(texts[start : start + 512], model=model, audience=audience)
        labels += [r["labels"] if r["error"] is None else None for r in results]
    return df, labels


def column(df: pd.DataFrame, name: str, flag: str) -> pd.Series:
    if name not in df.columns:
        listed = ", ".join(repr(str(c)) for c in df.columns)
        raise AnalysisError(f"{flag}: no column {name!r}; columns are {listed}")
    return df[name]


def drivers_from_file(
    path: str | os.PathLike[str],
    score: str,
    *,
    kind: str = "mean",
    min_count: int = 30,
    model: str | None = None,
    text_column: str | None = None,
) -> pd.DataFrame:
    """:func:`themesift.analysis.drivers` on a file and one of its score columns."""
    from themesift.analysis.drivers import drivers

    df, labels = labeled(path, model=model, text_column=text_column)
    return drivers(labels, column(df, score, "--score").tolist(), kind=kind, min_count=min_count)


def trends_from_file(
    path: str | os.PathLike[str],
    time: str,
    *,
    period: str = "month",
    dayfirst: bool | None = None,
    model: str | None = None,
    text_column: str | None = None,
) -> pd.DataFrame:
    """:func:`themesift.analysis.trends` on a file and its date column."""
    from themesift.analysis.trends import trends

    df, labels = labeled(path, model=model, text_column=text_column)
    return trends(labels, column(df, time, "--time").tolist(), period=period, dayfirst=dayfirst)


def link_inputs(
    employee_path: str | os.PathLike[str],
    customer_path: str | os.PathLike[str],
    unit: str,
    *,
    time: str | None = None,
    period: str = "quarter",
    lag: int = 0,
    dayfirst: bool | None = None,
    employee_scores: Sequence[str] = (),
    customer_scores: Sequence[str] = (),
    min_group_size: int = 5,
    model: str | None = None,
    text_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The two unit profiles of :func:`themesift.analysis.link` (raw exports are classified as
    employee comments and customer comments) and what was left out."""
    from themesift.analysis.link import period_units, unit_profile

    profiles, small, undated = [], [], []
    sides = (
        (employee_path, 0, employee_scores, "--employee-score", "employee"),
        (customer_path, lag, customer_scores, "--customer-score", "customer"),
    )
    for path, shift, score_columns, score_flag, audience in sides:
        df, labels = labeled(path, model=model, text_column=text_column, audience=audience)
        units = column(df, unit, "--unit").tolist()
        if time is not None:
            units, bad = period_units(units, column(df, time, "--time").tolist(), period, shift, dayfirst)
            labels = [None if u is None else lab for u, lab in zip(units, labels)]
            undated.append(len(bad))
        scores = {name: column(df, name, score_flag).tolist() for name in score_columns}
        profile, n_small = unit_profile(labels, units, scores=scores, min_group_size=min_group_size)
        profiles.append(profile)
        small.append(n_small)
    info = {
        "small_units": {"employee": small[0], "customer": small[1]},
        "undated_rows": {"employee": undated[0], "customer": undated[1]} if undated else None,
    }
    return profiles[0], profiles[1], info


def discover_from_file(
    path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    model: str | None = None,
    uncovered_only: bool = False,
    n_topics: int | str = "auto",
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`themesift.analysis.discover` on a classify output (its themes used as they are) or
    on a raw export, classified on the fly with ``model`` (default: the shipped model)."""
    from themesift.analysis.discover import discover
    from themesift.nlp.tables import resolve_text_column

    df, labels = labeled(path, model=model, text_column=text_column)
    texts = column(df, resolve_text_column(df.columns, text_column), "--text-column").tolist()
    return discover(texts, labels, n_topics=n_topics, uncovered_only=uncovered_only, seed=seed)
