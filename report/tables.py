"""The numbers behind the analysts' report, computed once from a predictions table.

Why a separate module: the charts, the HTML tables and the CSV/XLSX export must show the
same numbers, so every figure is computed here into plain DataFrames and the other
modules only draw them.

Definitions (kept deliberately simple so analysts can recompute them in a spreadsheet):
  * classified  = rows whose `error` is empty; flagged rows are "not classified";
  * mentions    = classified comments carrying the theme (counted once per comment);
  * positive / neutral / negative = classified comments carrying the theme with that
    polarity (a comment with two polarities for one theme counts in both);
  * share       = mentions / classified comments (of the group, for group tables);
  * net_sentiment = (positive - negative) / mentions, from -1 to 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from themesift.models.labels import LabelError, parse_labels
from themesift.nlp.cells import is_missing
from themesift.nlp.tables import TableError, resolve_text_column

POLARITIES = ("positive", "neutral", "negative")  # the report's column order; others follow, as found
BLANK_GROUP = "(blank)"

Labels = dict[str, set[str]]  # theme id -> polarities found in one comment


class ReportError(ValueError):
    """A predictions table the report cannot use; the message is one line for the CLI."""


@dataclass
class Parsed:
    """Per-row view of a predictions table (positional, same order as the frame)."""

    labels: list[Labels]
    classified: np.ndarray  # bool per row
    scores: list[dict[str, float]]
    evidence: list[list[dict]]
    polarities: tuple[str, ...] = field(default=POLARITIES)  # the three, then any other found (e.g. conflict)


@dataclass
class GroupBreakdown:
    """Theme shares per group of one column, small groups already removed."""

    column: str
    table: pd.DataFrame  # group, n, then one share column per theme id
    net: pd.DataFrame  # index group, columns theme ids: net sentiment (NaN = no mention)
    mentions: pd.DataFrame  # index group, columns theme ids: comment counts
    hidden: int  # groups suppressed: below the minimum size, or hidden with them (suppressed_groups)
    hidden_groups: frozenset[str] = frozenset()  # their names: no example comment may come from them
    hidden_small: int = 0  # of the hidden groups, those below the minimum size (the rest: complementary)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_themes(value: object, row: int, polarities: Sequence[str] | None = None) -> Labels:
    """One `themes` cell ('a:positive; b:negative', a list of labels, or empty) -> labels.

    Parsed by the project's one label parser (models.labels). Any polarity word is accepted
    unless ``polarities`` is given, since a model may be trained with more than the usual three
    (e.g. ``conflict``); every label must carry one, as classify writes them."""
    try:
        items = parse_labels(value, polarities)
    except LabelError as exc:
        raise ReportError(f"malformed themes value in row {row}: {_short(value)} ({exc})") from None
    labels: Labels = {}
    for item in items:
        theme, _, polarity = item.partition(":")
        if not polarity:
            raise ReportError(
                f"malformed themes value in row {row}: {_short(value)} "
                f"(label {item!r} has no polarity: expected 'theme:polarity')"
            )
        labels.setdefault(theme, set()).add(polarity)
    return labels


def _is_flagged(value: object) -> bool:
    if is_missing(value) or value is False:
        return False
    return bool(str(value).strip())


def _json_value(value: object) -> object:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return None if is_missing(value) else value


def _parse_scores(value: object) -> dict[str, float]:
    """Optional scores: lenient, since they only order the example comments."""
    data = _json_value(value)
    if isinstance(data, list):  # Parquet maps come back as (key, value) pairs
        data = {pair[0]: pair[1] for pair in data if isinstance(pair, (list, tuple)) and len(pair) == 2}
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, float] = {}
    for key, score in data.items():
        try:
            out[str(key)] = float(score)
        except (TypeError, ValueError):
            continue
    return out


def _parse_evidence(value: object) -> list[dict]:
    data = _json_value(value)
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def parse_predictions(df: pd.DataFrame, polarities: Sequence[str] | None = None) -> Parsed:
    """Check the frame is a `themesift classify` output and parse its label columns
    (``polarities``: the allowed polarity values; default any)."""
    if "themes" not in df.columns:
        raise ReportError(
            "no 'themes' column: this file is not a `themesift classify` output "
            f"(columns: {', '.join(map(str, df.columns)) or 'none'})"
        )
    n = len(df)
    errors = df["error"].tolist() if "error" in df.columns else [None] * n
    classified = np.array([not _is_flagged(e) for e in errors], dtype=bool)
    labels = [
        parse_themes(v, i + 1, polarities) if ok else {}
        for i, (v, ok) in enumerate(zip(df["themes"].tolist(), classified))
    ]
    found = dict.fromkeys(p for row in labels for pols in row.values() for p in sorted(pols))
    order = POLARITIES + tuple(p for p in found if p not in POLARITIES)
    scores = [_parse_scores(v) for v in df["scores"].tolist()] if "scores" in df.columns else [{} for _ in range(n)]
    evidence = (
        [_parse_evidence(v) for v in df["evidence"].tolist()] if "evidence" in df.columns else [[] for _ in range(n)]
    )
    return Parsed(labels=labels, classified=classified, scores=scores, evidence=evidence, polarities=order)


def headline(parsed: Parsed) -> dict[str, int]:
    """Comments, classified, not classified (flagged) and classified with no theme."""
    classified = int(parsed.classified.sum())
    no_theme = sum(1 for ok, lab in zip(parsed.classified, parsed.labels) if ok and not lab)
    return {
        "comments": len(parsed.labels),
        "classified": classified,
        "not_classified": len(parsed.labels) - classified,
        "no_theme": no_theme,
    }


def _counts(labels: Iterable[Labels], polarities: Sequence[str] = POLARITIES) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in labels:
        for theme, found in row.items():
            c = counts.setdefault(theme, {"mentions": 0, **{p: 0 for p in polarities}})
            c["mentions"] += 1
            for polarity in found:
                c[polarity] = c.get(polarity, 0) + 1
    return counts


def theme_summary(parsed: Parsed, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per theme found, most mentioned first."""
    classified = int(parsed.classified.sum())
    pols = list(parsed.polarities)
    counts = _counts(parsed.labels, pols)
    rows = [
        {
            "theme": t,
            "name": names.get(t, t),
            "mentions": c["mentions"],
            **{p: c[p] for p in pols},
            "share": c["mentions"] / classified if classified else 0.0,
            "net_sentiment": (c["positive"] - c["negative"]) / c["mentions"],
        }
        for t, c in counts.items()
    ]
    columns = ["theme", "name", "mentions", *pols, "share", "net_sentiment"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["mentions", "theme"], ascending=[False, True], kind="stable")
    return table.astype(
        {"mentions": int, **{p: int for p in pols}, "share": float, "net_sentiment": float}
    ).reset_index(drop=True)


def _group_key(value: object) -> str:
    if is_missing(value) or not str(value).strip():
        return BLANK_GROUP
    if isinstance(value, float) and value.is_integer():  # ints from a column with nulls
        return str(int(value))
    return str(value).strip()


def suppressed_groups(sizes: dict[str, int], min_group_size: int) -> set[str]:
    """Groups to hide: those under ``min_group_size`` comments, plus complementary ones.

    Hiding one small group is not enough when the others and the total are shown: its figures
    are the total minus the rest. So while fewer than two groups are hidden, or the hidden ones
    hold fewer than ``min_group_size`` comments together, the smallest shown group is hidden too.
    """
    hidden = {g for g, n in sizes.items() if n < min_group_size}
    shown = sorted((g for g in sizes if g not in hidden), key=lambda g: (sizes[g], g))
    while hidden and shown and (len(hidden) < 2 or sum(sizes[g] for g in hidden) < min_group_size):
        hidden.add(shown.pop(0))
    return hidden


def hidden_rows(df: pd.DataFrame, breakdowns: Iterable[GroupBreakdown]) -> set[int]:
    """Row positions that belong to a hidden group of any breakdown: never shown as examples."""
    rows: set[int] = set()
    for breakdown in breakdowns:
        if breakdown.hidden_groups:
            keys = [_group_key(v) for v in df[breakdown.column].tolist()]
            rows |= {i for i, key in enumerate(keys) if key in breakdown.hidden_groups}
    return rows


def group_breakdown(
    df: pd.DataFrame, column: str, parsed: Parsed, themes: list[str], min_group_size: int
) -> GroupBreakdown:
    """Theme shares per group of `column`; groups with fewer than `min_group_size`
    classified comments are dropped entirely (anonymity), with the complementary groups of
    :func:`suppressed_groups`; only their count is kept."""
    members: dict[str, list[Labels]] = {}
    for value, ok, labels in zip(df[column].tolist(), parsed.classified, parsed.labels):
        bucket = members.setdefault(_group_key(value), [])
        if ok:
            bucket.append(labels)
    hidden_groups = suppressed_groups({g: len(rows) for g, rows in members.items()}, max(min_group_size, 1))
    kept = sorted(g for g in members if g not in hidden_groups)
    hidden = len(hidden_groups)
    table_rows, net, mentions = [], {}, {}
    for group in kept:
        rows = members[group]
        counts = _counts(rows)
        table_rows.append(
            {"group": group, "n": len(rows), **{t: counts.get(t, {}).get("mentions", 0) / len(rows) for t in themes}}
        )
        mentions[group] = {t: counts.get(t, {}).get("mentions", 0) for t in themes}
        net[group] = {
            t: ((counts[t]["positive"] - counts[t]["negative"]) / counts[t]["mentions"])
            if t in counts
            else float("nan")
            for t in themes
        }
    table = pd.DataFrame(table_rows, columns=["group", "n", *themes])
    table = table.astype({"n": int, **{t: float for t in themes}})
    return GroupBreakdown(
        column=column,
        table=table,
        hidden=hidden,
        hidden_groups=frozenset(hidden_groups),
        hidden_small=sum(len(members[g]) < max(min_group_size, 1) for g in hidden_groups),
        net=pd.DataFrame.from_dict(net, orient="index", columns=themes).reindex(kept),
        mentions=pd.DataFrame.from_dict(mentions, orient="index", columns=themes).reindex(kept),
    )


def select_examples(
    df: pd.DataFrame,
    text_column: str,
    parsed: Parsed,
    summary: pd.DataFrame,
    per_theme: int,
    exclude: Iterable[int] = (),
) -> pd.DataFrame:
    """Representative comments per theme: highest score first when scores exist, else the
    first ones in file order; only classified, non-empty comments, none of the rows in
    ``exclude`` (hidden groups)."""
    texts = df[text_column].tolist()
    excluded = set(exclude)
    candidates: dict[str, list[tuple[float, int, float | None]]] = {}
    for i, (ok, labels) in enumerate(zip(parsed.classified, parsed.labels)):
        if not ok or not labels or i in excluded or is_missing(texts[i]) or not str(texts[i]).strip():
            continue
        for theme in labels:
            score = parsed.scores[i].get(theme)
            # scored comments first (highest first), unscored after, file order breaks ties
            candidates.setdefault(theme, []).append((-score if score is not None else 1.0, i, score))
    rows = []
    for theme, name in zip(summary["theme"], summary["name"]):
        for _, i, score in sorted(candidates.get(theme, []))[:per_theme]:
            evidence = next(
                (str(e.get("text", "")) for e in parsed.evidence[i] if e.get("theme") == theme and e.get("text")), ""
            )
            rows.append(
                {
                    "theme": theme,
                    "name": name,
                    "polarity": ", ".join(p for p in parsed.polarities if p in parsed.labels[i][theme]),
                    "score": score,
                    "row": i + 1,
                    "comment": str(texts[i]).strip(),
                    "evidence": evidence,
                }
            )
    columns = ["theme", "name", "polarity", "score", "row", "comment", "evidence"]
    return pd.DataFrame(rows, columns=columns).astype({"row": int, "score": float})


def find_text_column(df: pd.DataFrame, text_column: str | None) -> str:
    """The comment column: the one given, else the one classify would guess (nlp.tables: the
    usual names and their plurals, any case), so a file classify read the report reads too."""
    try:
        return resolve_text_column(df.columns, text_column)
    except TableError as exc:
        raise ReportError(f"{exc} (--text-column)") from None
