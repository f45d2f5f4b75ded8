"""Reading label values in every format users export them in, with row-precise errors.

The label syntax itself lives in :mod:`themesift.models.labels` (one parser for training,
evaluation and the report); this module adds where each value came from (file, row, column).
"""

from __future__ import annotations

from typing import Any, Sequence

from themesift.models.labels import POLARITIES, LabelError, case_clash, parse_labels
from themesift.nlp.cells import is_empty_cell


class LabelDataError(ValueError):
    """A bad label value, naming the file, the row and the value."""


def parse_label_value(value: Any, polarities: Sequence[str] = POLARITIES) -> list[str]:
    """A list/array, a JSON array string, or a ``;``-separated string → canonical labels."""
    return parse_labels(value, polarities)


def parse_label_column(
    values: Sequence[Any], *, source: str, column: str, first_row: int = 1, polarities: Sequence[str] = POLARITIES
) -> list[list[str]]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(parse_labels(value, polarities))
        except LabelError as exc:
            raise LabelDataError(
                f"{source}, row {first_row + i}, column {column!r}: bad labels value {value!r}: {exc}"
            ) from None
    check_theme_case(out, source=source, column=column, first_row=first_row)
    return out


def check_theme_case(
    label_sets: Sequence[Sequence[str]],
    *,
    source: str,
    column: str | None = None,
    first_row: int = 1,
    known: dict[str, str] | None = None,
) -> None:
    """Refuse two spellings of one theme (``MANAGER_SUPPORT`` / ``manager_support``), naming the
    row where the second appears: merging them silently could pick the wrong one."""
    known = {} if known is None else known
    for i, labels in enumerate(label_sets):
        clash = case_clash((lab.partition(":")[0] for lab in labels), known)
        if clash:
            where = f"{source}, row {first_row + i}" + (f", column {column!r}" if column else "")
            raise LabelDataError(
                f"{where}: theme {clash[1]!r} differs only in case from {clash[0]!r}; spell each theme one way"
            )


def is_polarity_column(values: Sequence[Any], polarities: Sequence[str] = POLARITIES) -> bool:
    """True when a column holds only polarities and blanks (and at least one polarity)."""
    seen = False
    for value in values:
        if is_empty_cell(value):
            continue
        if not isinstance(value, str) or value.strip().lower() not in polarities:
            return False
        seen = True
    return seen


def parse_theme_columns(
    frame, columns: Sequence[str], *, source: str, first_row: int = 1, polarities: Sequence[str] = POLARITIES
) -> list[list[str]]:
    """One column per theme holding a polarity or blank → label sets (theme = column name)."""
    clash = case_clash(map(str, columns))
    if clash:
        raise LabelDataError(f"{source}: theme columns {clash[0]!r} and {clash[1]!r} differ only in case")
    out: list[list[str]] = [[] for _ in range(len(frame))]
    for column in columns:
        for i, value in enumerate(frame[column].tolist()):
            if is_empty_cell(value):
                continue
            polarity = str(value).strip().lower()
            if polarity not in polarities:
                raise LabelDataError(
                    f"{source}, row {first_row + i}, column {column!r}: {value!r} is not a polarity "
                    f"({', '.join(polarities)}) or blank"
                )
            out[i].append(f"{column}:{polarity}")
    return out


def from_label_studio(frame, source: str = "data"):
    """A Label Studio JSON export (tasks with ``data`` and ``annotations``) as a text + labels
    table: the text is ``data["text"]`` (other ``data`` keys become columns), the labels the
    choices of the latest annotation that was not cancelled; tasks nobody annotated are left
    out. Any choices control counts, so the config of ``themesift suggest`` or one's own works."""
    import pandas as pd

    rows = []
    for i, (data, marks) in enumerate(zip(frame["data"], frame["annotations"])):
        if not isinstance(data, dict) or "text" not in data:
            raise LabelDataError(f"{source}: task {i + 1} has no data.text (a Label Studio text task is expected)")
        done = [
            a for a in (marks if isinstance(marks, list) else []) if isinstance(a, dict) and not a.get("was_cancelled")
        ]
        if not done:
            continue
        result = done[-1].get("result") or []
        labels = sorted(
            {
                c
                for r in result
                if isinstance(r, dict) and r.get("type") == "choices"
                for c in (r.get("value") or {}).get("choices", [])
            }
        )
        rows.append({**{k: v for k, v in data.items() if k != "text"}, "text": data["text"], "labels": labels})
    if not rows:
        raise LabelDataError(f"{source}: no annotated task in this Label Studio export")
    return pd.DataFrame(rows)
