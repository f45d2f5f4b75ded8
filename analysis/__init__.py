"""Analysis of classified comments, with intervals and multiple-testing correction: what moves a
score (drivers), what changed over time (trends), how groups differ from the rest
(compare_groups, with anonymity suppression), which employee themes go with which customer
themes across units (link), and which topics the taxonomy misses (discover).

Works on label sets (a ``themesift classify`` output's ``themes`` column) and needs no model,
except ``discover``, which embeds the comments. Library first: each function returns a
DataFrame; ``themesift drivers / trends / link / discover`` are thin layers over it
(analysis.predictions reads the files).
"""

from themesift.analysis.discover import discover
from themesift.analysis.drivers import DRIVER_COLUMNS, AnalysisError, bh_qvalues, drivers
from themesift.analysis.groups import compare_groups, suppressed_groups
from themesift.analysis.link import link, period_units, unit_profile
from themesift.analysis.scores import SCORE_KINDS, parse_scores
from themesift.analysis.trends import PERIODS, parse_dates, trends

__all__ = [
    "DRIVER_COLUMNS",
    "PERIODS",
    "SCORE_KINDS",
    "AnalysisError",
    "bh_qvalues",
    "compare_groups",
    "discover",
    "drivers",
    "link",
    "parse_dates",
    "parse_scores",
    "period_units",
    "suppressed_groups",
    "trends",
    "unit_profile",
]
