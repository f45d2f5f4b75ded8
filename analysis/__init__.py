"""Analysis of classified comments: what moves a score (drivers) and what changed over time
(trends), with intervals and multiple-testing correction.

Works on a ``themesift classify`` output (or any table with a ``themes`` column) and needs no
model. Library first: each function returns a DataFrame; ``themesift drivers`` is a thin layer.
"""
from themesift.analysis.drivers import DRIVER_COLUMNS, AnalysisError, bh_qvalues, drivers
from themesift.analysis.scores import SCORE_KINDS, parse_scores
from themesift.analysis.trends import PERIODS, parse_dates, trends

__all__ = ["DRIVER_COLUMNS", "PERIODS", "SCORE_KINDS", "AnalysisError", "bh_qvalues", "drivers", "parse_dates",
           "parse_scores", "trends"]
