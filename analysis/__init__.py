"""Analysis of classified comments: what moves a score (drivers), with intervals.

Works on a ``themesift classify`` output (or any table with a ``themes`` column) and needs no
model. Library first: each function returns a DataFrame; ``themesift drivers`` is a thin layer.
"""
from themesift.analysis.drivers import DRIVER_COLUMNS, AnalysisError, bh_qvalues, drivers
from themesift.analysis.scores import SCORE_KINDS, parse_scores

__all__ = ["DRIVER_COLUMNS", "SCORE_KINDS", "AnalysisError", "bh_qvalues", "drivers", "parse_scores"]
