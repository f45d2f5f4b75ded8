"""Reading label values in every format users export them in, with row-precise errors."""
from __future__ import annotations

import json
import math
from typing import Any, Sequence

from themesift.models.labels import POLARITIES, LabelError, format_label, parse_label


class LabelDataError(ValueError):
    """A bad label value, naming the file, the row and the value."""


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_label_value(value: Any, polarities: Sequence[str] = POLARITIES) -> list[str]:
    """A list/array, a JSON array string, or a ``;``-separated string → canonical labels."""
    if _is_blank(value):
        return []
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LabelError(f"invalid JSON list {text!r}: {exc.msg}") from None
        else:
            value = [part for part in text.split(";") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise LabelError(f"expected a list of labels or a ';'-separated string, got {type(value).__name__}")
    labels, seen = [], {}
    for item in value:
        theme, polarity = parse_label(item, polarities)
        if theme in seen:
            raise LabelError(f"theme {theme!r} appears twice")
        seen[theme] = polarity
        labels.append(format_label(theme, polarity))
    return labels


def parse_label_column(values: Sequence[Any], *, source: str, column: str, first_row: int = 1,
                       polarities: Sequence[str] = POLARITIES) -> list[list[str]]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(parse_label_value(value, polarities))
        except LabelError as exc:
            raise LabelDataError(f"{source}, row {first_row + i}, column {column!r}: bad labels value {value!r}: {exc}") from None
    return out


def is_polarity_column(values: Sequence[Any], polarities: Sequence[str] = POLARITIES) -> bool:
    """True when a column holds only polarities and blanks (and at least one polarity)."""
    seen = False
    for value in values:
        if _is_blank(value):
            continue
        if not isinstance(value, str) or value.strip().lower() not in polarities:
            return False
        seen = True
    return seen


def parse_theme_columns(frame, columns: Sequence[str], *, source: str, first_row: int = 1,
                        polarities: Sequence[str] = POLARITIES) -> list[list[str]]:
    """One column per theme holding a polarity or blank → label sets (theme = column name)."""
    out: list[list[str]] = [[] for _ in range(len(frame))]
    for column in columns:
        for i, value in enumerate(frame[column].tolist()):
            if _is_blank(value):
                continue
            polarity = str(value).strip().lower()
            if polarity not in polarities:
                raise LabelDataError(f"{source}, row {first_row + i}, column {column!r}: {value!r} is not a polarity "
                                     f"({', '.join(polarities)}) or blank")
            out[i].append(f"{column}:{polarity}")
    return out
