"""The analysts' report: `themesift report PREDICTIONS -o report.html [--by COLUMN ...]`.

Turns a `themesift classify` predictions table into one self-contained HTML page (theme
volume, volume vs. net sentiment, a heatmap per `--by` column with small groups
suppressed for anonymity, representative comments) plus the same numbers as tables.
The numbers live in report.tables, the figures in report.charts, the page kit in report.page.
"""

from __future__ import annotations

import importlib.resources
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from themesift.nlp.atomic import atomic_write_text
from themesift.nlp.tables import TableError
from themesift.report import charts
from themesift.report import page as page_html
from themesift.report.tables import (
    GroupBreakdown,
    ReportError,
    find_text_column,
    group_breakdown,
    headline,
    hidden_rows,
    parse_predictions,
    select_examples,
    theme_summary,
)

__all__ = [
    "Report",
    "ReportError",
    "build_report",
    "default_theme_names",
    "read_classified",
    "read_predictions",
    "tool_view",
    "write_report",
    "write_tables",
]

DEFAULT_TITLE = "Comment themes"


@dataclass
class Report:
    """The rendered page and the tables it shows (theme_summary, by_<column>, examples)."""

    html: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def default_theme_names() -> dict[str, str]:
    """Theme id -> display name from the packaged default taxonomy ({} if unreadable)."""
    try:
        path = importlib.resources.files("themesift") / "taxonomy" / "ex-cx-1.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, ModuleNotFoundError, yaml.YAMLError):
        return {}
    return {
        str(t["id"]): str(t.get("name") or t["id"]) for t in data.get("themes", []) if isinstance(t, dict) and "id" in t
    }


def _display_labels(themes: Sequence[str], names: Mapping[str, str]) -> dict[str, str]:
    """Theme id -> label; names shared by two ids get the id appended so charts stay apart."""
    labels = {t: names.get(t, t) for t in themes}
    seen = pd.Series(list(labels.values())).value_counts()
    return {t: (f"{n} ({t})" if seen[n] > 1 else n) for t, n in labels.items()}


def _redact(examples: pd.DataFrame) -> pd.DataFrame:
    """Pass example comments (and their evidence sentences) through the PII redactor."""
    try:
        from themesift.nlp.redact import redact_batch
    except ImportError as exc:
        raise ReportError(f"redaction is not available ({exc})") from exc
    if examples.empty:
        return examples
    texts = examples["comment"].tolist() + examples["evidence"].tolist()
    unique = sorted({t for t in texts if t})  # each distinct text once; empty stays empty
    redacted = dict(zip(unique, (r.text for r in redact_batch(unique))))
    out = examples.copy()
    for column in ("comment", "evidence"):
        out[column] = [redacted.get(t, t) for t in out[column]]
    return out


def build_report(
    df: pd.DataFrame,
    *,
    text_column: str | None = None,
    by: Sequence[str] = (),
    min_group_size: int = 5,
    redact: bool = False,
    theme_names: Mapping[str, str] | None = None,
    title: str = DEFAULT_TITLE,
    examples_per_theme: int = 3,
    extra: Callable[[pd.DataFrame, Mapping[str, str]], Any] | None = None,
) -> Report:
    """Build the report from a predictions frame (as read from a `themesift classify` output).

    `by`: group columns, one heatmap and one `by_<column>` table each; groups with fewer
    than `min_group_size` classified comments are left out everywhere and only counted.
    `redact`: example comments go through `themesift.nlp.redact.redact_batch` first.
    `theme_names`: id -> display name (default: the packaged taxonomy; unknown ids shown
    as themselves). `extra(df, names)` returns more sections (``.top``: first, ``.body``: before
    the examples) and ``.tables``: the analyses of ``themesift.analysis.report_sections``.
    Raises ReportError (a ValueError) with a one-line message for a missing `themes` or `--by`
    column, malformed `themes` values, or no text column.
    """
    parsed = parse_predictions(df)
    by = list(dict.fromkeys(by or ()))
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise ReportError(f"--by column {missing[0]!r} not found (columns: {', '.join(map(str, df.columns))})")
    text_col = find_text_column(df, text_column)
    names = dict(default_theme_names() if theme_names is None else theme_names)

    numbers = headline(parsed)
    summary = theme_summary(parsed, names)
    themes = summary["theme"].tolist()
    labels = _display_labels(themes, names)
    theme_labels = [labels[t] for t in themes]
    breakdowns = [group_breakdown(df, c, parsed, themes, min_group_size) for c in by]
    examples = select_examples(df, text_col, parsed, summary, examples_per_theme, hidden_rows(df, breakdowns))
    if redact:
        examples = _redact(examples)

    added = extra(df, names) if extra is not None else None
    body = [page_html.cards(numbers), *(added.top if added else [])]
    if themes:
        body.append(
            page_html.section(
                "volume",
                "Theme volume",
                charts.figure_html(charts.volume_bar(summary, theme_labels), "chart-volume"),
                "Classified comments mentioning each theme, by polarity; most mentioned first.",
            )
        )
        body.append(
            page_html.section(
                "sentiment",
                "Volume and sentiment",
                charts.figure_html(charts.sentiment_bubble(summary, theme_labels), "chart-bubble"),
                "Right = talked about more; up = more positive than negative "
                "(net sentiment = (positive − negative) / mentions); bubble size = mentions.",
            )
        )
    else:
        body.append(
            page_html.section("volume", "Theme volume", '<p class="empty">No themes found in these comments.</p>')
        )
    for i, breakdown in enumerate(breakdowns):
        body.append(_group_section(i, breakdown, themes, labels, min_group_size))
    body += added.body if added else []
    body.append(
        page_html.section(
            "examples",
            "Representative comments",
            page_html.examples_section(examples, summary, labels),
            "Highest-scoring comments per theme" + (" (personal details redacted)." if redact else "."),
        )
    )
    body.append(
        page_html.section(
            "summary",
            "Theme summary",
            page_html.html_table(
                summary, {"share": page_html.pct, "net_sentiment": page_html.signed}, {"net_sentiment": "net sentiment"}
            ),
        )
    )

    tables = {"theme_summary": summary, **{f"by_{b.column}": b.table for b in breakdowns}, "examples": examples}
    tables |= added.tables if added else {}
    subtitle = f"{numbers['comments']:,} comments · generated {datetime.now():%Y-%m-%d %H:%M} by themesift"
    uses_plotly = "Plotly.newPlot" in "".join(body)
    plotly_js = _plotly_js() if uses_plotly else None
    return Report(html=page_html.page(title, subtitle, body, plotly_js), tables=tables)


def _group_section(
    index: int, breakdown: GroupBreakdown, themes: list[str], labels: Mapping[str, str], min_group_size: int
) -> str:
    """Heatmap, suppression notice and table for one `--by` column."""
    parts = []
    if themes and not breakdown.table.empty:
        fig = charts.group_heatmap(breakdown, themes, [labels[t] for t in themes])
        parts.append(charts.figure_html(fig, f"chart-by-{index}"))
    elif not themes:
        parts.append('<p class="empty">No themes found in these comments.</p>')
    else:
        parts.append('<p class="empty">No group is large enough to show.</p>')
    if breakdown.hidden:
        small, more = breakdown.hidden_small, breakdown.hidden - breakdown.hidden_small
        note = f"{small} group{'s' if small != 1 else ''} hidden below the minimum size of {min_group_size}"
        if more:
            note += f", and {more} more so that {'it' if small == 1 else 'they'} cannot be worked out from the total"
        parts.append(f'<p class="suppressed">{note}</p>')
    if not breakdown.table.empty:
        formats = {t: page_html.pct for t in themes}
        parts.append(
            "<details><summary>Show as a table</summary>"
            + page_html.html_table(breakdown.table, formats, dict(labels))
            + "</details>"
        )
    return page_html.section(
        f"by-{index}",
        f"By {breakdown.column}",
        "".join(parts),
        "Share of each group's classified comments mentioning the theme; hover a cell for net sentiment and counts.",
    )


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def read_predictions(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a predictions table (CSV, JSONL, Parquet, XLSX), text cells kept as text."""
    try:
        from themesift.nlp.tables import read_table
    except ImportError:
        read_table = None
    if read_table is not None:
        return read_table(path)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if suffix in (".jsonl", ".ndjson", ".json"):
        return pd.read_json(path, lines=True, dtype=False)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    raise ReportError(f"cannot read {path.name}: expected .csv, .jsonl, .parquet or .xlsx")


def _safe_name(name: str, limit: int) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_")[:limit] or "table"


def _check_tables_path(path: Path) -> None:
    """A folder (no suffix) whose parent exists, or an .xlsx in an existing folder."""
    from themesift.nlp.table_writer import check_output_path

    if path.suffix == "":
        if not path.parent.is_dir():
            raise TableError(f"--tables: folder {path.parent} does not exist")
        if path.exists() and not path.is_dir():
            raise TableError(f"--tables: {path} exists and is not a folder")
        return
    if path.suffix.lower() != ".xlsx":
        raise TableError(f"--tables: tables path {path.name!r} must be a folder (no suffix) or an .xlsx file")
    try:
        check_output_path(path)
    except TableError as exc:
        raise TableError(f"--tables: {exc}") from None


def write_tables(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> None:
    """CSV files in a folder (path without suffix) or one .xlsx with a sheet per table.

    Through the same table writer as ``classify``: each file written atomically, every text
    cell formula-safe (see :mod:`themesift.nlp.table_writer`).
    """
    from themesift.nlp.table_writer import write_sheets, write_table

    path = Path(path)
    _check_tables_path(path)
    if path.suffix == "":
        path.mkdir(exist_ok=True)
        for name, table in tables.items():
            write_table(table, path / f"{_safe_name(name, 120)}.csv")
        return
    used: set[str] = set()
    sheets = {}
    for name, table in tables.items():
        sheet = _safe_name(name, 31)
        while sheet in used:
            sheet = f"{sheet[:28]}_{len(used)}"
        used.add(sheet)
        sheets[sheet] = table
    write_sheets(sheets, path)


_TOOL_COLUMNS = ("themes", "scores", "evidence", "error", "warning", "audience")


def tool_view(df: pd.DataFrame) -> pd.DataFrame:
    """The classify output with its own columns under their plain names: where the input had a
    ``themes`` (etc.) column, classify wrote ``themesift_themes``; the report reads that one."""
    renames = {f"themesift_{n}": n for n in _TOOL_COLUMNS if f"themesift_{n}" in df.columns}
    if not renames:
        return df
    return df.drop(columns=[n for n in renames.values() if n in df.columns]).rename(columns=renames)


def read_classified(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A classify output as the report and the analyses read it: tool columns under plain names."""
    return tool_view(read_predictions(path))


def write_report(
    predictions_path: str | os.PathLike[str],
    output_html: str | os.PathLike[str],
    *,
    by: Sequence[str] = (),
    min_group_size: int = 5,
    redact: bool = False,
    text_column: str | None = None,
    tables_path: str | os.PathLike[str] | None = None,
    title: str = DEFAULT_TITLE,
    examples_per_theme: int = 3,
    theme_names: Mapping[str, str] | None = None,
    extra: Callable[[pd.DataFrame, Mapping[str, str]], Any] | None = None,
) -> Report:
    """Read a predictions file, build the report, write the HTML (atomically) and, when
    `tables_path` is given, the same tables (folder of CSVs, or one .xlsx).

    Output paths are checked before anything is read: the HTML's folder must exist (as for
    ``classify``; it is never created), and `tables_path` must be a folder or an .xlsx."""
    if not Path(output_html).parent.is_dir():
        raise TableError(f"output folder does not exist: {Path(output_html).parent}")
    if tables_path is not None:
        _check_tables_path(Path(tables_path))
    df = read_classified(predictions_path)
    report = build_report(
        df,
        text_column=text_column,
        by=by,
        min_group_size=min_group_size,
        redact=redact,
        theme_names=theme_names,
        title=title,
        examples_per_theme=examples_per_theme,
        extra=extra,
    )
    atomic_write_text(output_html, report.html)
    if tables_path is not None:
        write_tables(report.tables, tables_path)
    return report
