"""Score columns as analysts export them: ratings, CSAT, likelihood to recommend.

A cell that is blank or not a number is never guessed at: its row is left out of the analysis
and reported by row number, so a figure on a slide says what it rests on. ``nps`` maps 0-10
likelihood to recommend to +100 (9-10, promoters), 0 (7-8) and -100 (0-6), so a mean of those is
the NPS and a regression coefficient reads in NPS points; values outside 0-10 are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from themesift.nlp.cells import is_empty_cell

ScoreKind = Literal["mean", "nps"]
SCORE_KINDS = ("mean", "nps")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d{1,2}")


def to_number(value: object) -> float | None:
    """A numeric cell (``4``, ``"4.5"``, ``"4,5"``, ``" 7 "``) as a float; anything else None."""
    if isinstance(value, bool) or is_empty_cell(value):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    else:
        text = str(value).strip()
        if _DECIMAL_COMMA.fullmatch(text):  # "4,5" (a European export); "1,000" stays refused
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    return number if np.isfinite(number) else None


def parse_scores(values: Sequence[object], kind: ScoreKind = "mean") -> tuple[np.ndarray, list[int]]:
    """Scores as floats (NaN where unusable) and the 1-based rows left out."""
    if kind not in SCORE_KINDS:
        raise ValueError(f"score kind must be one of {', '.join(SCORE_KINDS)}, got {kind!r}")
    out = np.full(len(values), np.nan)
    bad: list[int] = []
    for i, value in enumerate(values):
        number = to_number(value)
        if number is None or (kind == "nps" and not 0 <= number <= 10):
            bad.append(i + 1)
            continue
        if kind == "nps":
            number = 100.0 if number >= 9 else (0.0 if number >= 7 else -100.0)
        out[i] = number
    return out, bad
