"""Output layouts for batch results: one row per comment (default, wide) or per mention (long).

The user's columns come first, unchanged; the tool's columns follow. A tool column whose name
the input already uses (``score``, ``themes``, ``error``, ``audience``, ``theme_pay``...) is
named ``themesift_<name>`` instead (:func:`themesift.nlp.tables.tool_column`, the one rule),
so no input column is ever dropped or overwritten.
"""

from __future__ import annotations

import json
from typing import Sequence

import pandas as pd

from themesift.nlp.tables import tool_column

ADDED_COLUMNS = (
    "themes",
    "scores",
    "evidence",
    "error",
    "warning",
    "row",
    "theme",
    "polarity",
    "score",
    "evidence_start",
    "evidence_end",
)
WIDE_PREFIX = "theme_"
AUDIENCE_COLUMN = "audience"  # named themesift_audience when the input already has an audience column


def audience_column_name(columns: Sequence[str]) -> str:
    return tool_column(AUDIENCE_COLUMN, columns)


def output_names(
    columns: Sequence[object], names: Sequence[str] = ADDED_COLUMNS + (AUDIENCE_COLUMN,)
) -> dict[str, str]:
    """Each tool column's name in the output, given the input's ``columns``."""
    return {name: tool_column(name, columns) for name in names}


def _evidence_json(result: dict) -> str:
    return json.dumps(
        [
            {"theme": t["theme"], "polarity": t["polarity"], "score": t["score"], **ev}
            for t in result["themes"]
            for ev in t.get("evidence", [])[:1]
        ],
        ensure_ascii=False,
    )


def to_layout(
    frame: pd.DataFrame,
    results: list[dict],
    layout: str,
    *,
    themes: Sequence[str],
    evidence: bool = False,
    first_row: int = 0,
    audience: bool = False,
) -> pd.DataFrame:
    """Add the result columns to ``frame`` (a copy), in the shape ``layout`` asks for.

    default: ``themes`` (list of theme:polarity), ``scores`` (JSON theme → score), optional
    ``evidence`` (JSON), ``error``, ``warning``. wide: the same plus ``theme_<id>`` per theme
    holding its polarity or "". long: one row per theme mention — ``row`` (0-based input row),
    ``theme``, ``polarity``, ``score``, ``evidence`` with ``evidence_start``/``evidence_end``
    offsets into the text — and one row with an empty theme for comments with none, so no
    input row disappears from a pivot table. ``audience=True`` adds the audience each comment was
    classified as (``audience``, or ``themesift_audience`` when the input has an ``audience`` column).
    """
    out = frame.reset_index(drop=True).copy()
    name = output_names(list(frame.columns))
    if layout == "long":
        return _long(out, results, first_row, audience, name)
    added = {
        name["themes"]: [r["labels"] for r in results],
        name["scores"]: [json.dumps({t["theme"]: t["score"] for t in r["themes"]}) for r in results],
    }
    if evidence:
        added[name["evidence"]] = [_evidence_json(r) for r in results]
    if audience:
        added[name[AUDIENCE_COLUMN]] = [r.get("audience") or "" for r in results]
    added[name["error"]] = [r["error"] for r in results]
    added[name["warning"]] = [r["warning"] for r in results]
    if layout == "wide":
        polarity = [{t["theme"]: t["polarity"] for t in r["themes"]} for r in results]
        for theme in themes:
            added[tool_column(WIDE_PREFIX + theme, frame.columns)] = [p.get(theme) or "" for p in polarity]
    return pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)


def _long(
    frame: pd.DataFrame, results: list[dict], first_row: int, audience: bool, name: dict[str, str]
) -> pd.DataFrame:
    records, source_rows = [], []
    for i, result in enumerate(results):
        mentions = result["themes"] or [None]
        for t in mentions:
            ev = (t.get("evidence") or [{}])[0] if t else {}
            records.append(
                {
                    "row": first_row + i,
                    "theme": t["theme"] if t else "",
                    "polarity": (t["polarity"] or "") if t else "",
                    "score": t["score"] if t else None,
                    "evidence": ev.get("text", ""),
                    "evidence_start": ev.get("start"),
                    "evidence_end": ev.get("end"),
                    "error": result["error"],
                    "warning": result["warning"],
                }
            )
            source_rows.append(i)
    base = frame.iloc[source_rows].reset_index(drop=True)
    added = pd.DataFrame.from_records(
        records,
        columns=["row", "theme", "polarity", "score", "evidence", "evidence_start", "evidence_end", "error", "warning"],
    )
    added["evidence_start"] = added["evidence_start"].astype("Int64")
    added["evidence_end"] = added["evidence_end"].astype("Int64")
    if audience:
        added.insert(0, AUDIENCE_COLUMN, [results[i].get("audience") or "" for i in source_rows])
    return pd.concat([base, added.rename(columns=name)], axis=1)
