"""Analysis of classified comments: what moves a score (drivers) and what changed over time
(trends), how groups differ from the rest (compare_groups, with anonymity suppression), with
intervals and multiple-testing correction.

Works on a ``themesift classify`` output (or any table with a ``themes`` column) and needs no
model. Library first: each function returns a DataFrame; ``themesift drivers`` and ``themesift
trends`` are thin layers over it.
"""

from themesift.analysis.drivers import DRIVER_COLUMNS, AnalysisError, bh_qvalues, drivers
from themesift.analysis.groups import compare_groups, suppressed_groups
from themesift.analysis.scores import SCORE_KINDS, parse_scores
from themesift.analysis.trends import PERIODS, parse_dates, trends

__all__ = [
    "DRIVER_COLUMNS",
    "PERIODS",
    "SCORE_KINDS",
    "AnalysisError",
    "bh_qvalues",
    "compare_groups",
    "drivers",
    "parse_dates",
    "parse_scores",
    "suppressed_groups",
    "trends",
]
