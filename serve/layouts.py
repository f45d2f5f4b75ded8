"""Output layouts for batch results: one row per comment (default, wide) or per mention (long)."""
from __future__ import annotations

import json
from typing import Sequence

import pandas as pd

ADDED_COLUMNS = ("themes", "scores", "evidence", "error", "warning", "row", "theme", "polarity", "score",
                 "evidence_start", "evidence_end")
WIDE_PREFIX = "theme_"
AUDIENCE_COLUMN = "audience"  # named themesift_audience when the input already has an audience column


def audience_column_name(columns: Sequence[str]) -> str:
    return "themesift_" + AUDIENCE_COLUMN if AUDIENCE_COLUMN in columns else AUDIENCE_COLUMN


def _evidence_json(result: dict) -> str:
    return json.dumps([{"theme": t["theme"], "polarity": t["polarity"], "score": t["score"], **ev}
                       for t in result["themes"] for ev in t.get("evidence", [])[:1]], ensure_ascii=False)


def to_layout(frame: pd.DataFrame, results: list[dict], layout: str, *, themes: Sequence[str],
              evidence: bool = False, first_row: int = 0, audience: bool = False) -> pd.DataFrame:
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
    if layout == "long":
        return _long(out, results, first_row, audience)
    out["themes"] = [r["labels"] for r in results]
    out["scores"] = [json.dumps({t["theme"]: t["score"] for t in r["themes"]}) for r in results]
    if evidence:
        out["evidence"] = [_evidence_json(r) for r in results]
    if audience:
        out[audience_column_name(list(frame.columns))] = [r.get("audience") or "" for r in results]
    out["error"] = [r["error"] for r in results]
    out["warning"] = [r["warning"] for r in results]
    if layout == "wide":
        polarity = [{t["theme"]: t["polarity"] for t in r["themes"]} for r in results]
        for theme in themes:
            out[WIDE_PREFIX + theme] = [p.get(theme) or "" for p in polarity]
    return out


def _long(frame: pd.DataFrame, results: list[dict], first_row: int, audience: bool) -> pd.DataFrame:
    records, source_rows = [], []
    for i, result in enumerate(results):
        mentions = result["themes"] or [None]
        for t in mentions:
            ev = (t.get("evidence") or [{}])[0] if t else {}
            records.append({"row": first_row + i, "theme": t["theme"] if t else "",
                            "polarity": (t["polarity"] or "") if t else "", "score": t["score"] if t else None,
                            "evidence": ev.get("text", ""), "evidence_start": ev.get("start"),
                            "evidence_end": ev.get("end"), "error": result["error"], "warning": result["warning"]})
            source_rows.append(i)
    base = frame.iloc[source_rows].reset_index(drop=True)
    added = pd.DataFrame.from_records(records, columns=["row", "theme", "polarity", "score", "evidence",
                                                        "evidence_start", "evidence_end", "error", "warning"])
    added["evidence_start"] = added["evidence_start"].astype("Int64")
    added["evidence_end"] = added["evidence_end"].astype("Int64")
    if audience:
        added.insert(0, audience_column_name(list(frame.columns)),
                     [results[i].get("audience") or "" for i in source_rows])
    return pd.concat([base, added], axis=1)
