"""The analysts' report: one self-contained HTML page (and tables) from a classify output.

Needs no model. ``build`` assembles the report, ``tables`` computes its numbers, ``charts``
draws its figures and ``page`` is the HTML kit (escaping, CSS, the offline page shell) that the
evaluation report in ``training`` uses too.
"""

from themesift.report.build import (
    Report,
    ReportError,
    build_report,
    default_theme_names,
    read_classified,
    read_predictions,
    tool_view,
    write_report,
    write_tables,
)

__all__ = [
    "Report",
    "ReportError",
    "build_report",
    "default_theme_names",
    "read_classified",
    "read_predictions",
    "tool_view",
    "write_report",
    "write_tables",
]
