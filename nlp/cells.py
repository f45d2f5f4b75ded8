"""What counts as an empty table cell: the one test every reader, parser and report uses.

A DataFrame cell with no value can hold None, float NaN, numpy NaN, ``pandas.NA`` or
``NaT`` depending on the reader and dtype; a check that forgets one of them turns an empty
cell into the text ``"nan"`` or a crash, so the rule lives here once.
"""

from __future__ import annotations

import math

import pandas as pd


def is_missing(value: object) -> bool:
    """None, NaN, pandas.NA/NaT, numpy NaN: what a cell holds when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def is_empty_cell(value: object) -> bool:
    """A missing value or a whitespace-only string: a cell with nothing in it."""
    return is_missing(value) or (isinstance(value, str) and not value.strip())
