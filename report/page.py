"""The self-contained HTML page around the report's charts and tables.

Why its own module: the page must open offline and never fetch anything, so everything
it needs (CSS, plotly.js) is inlined here, a Content-Security-Policy forbids any fetch,
and every piece of analyst data (comments, group and theme names) is escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from themesift.nlp.cells import is_missing

CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

CSS = """
:root { --pos: #2e7d32; --neu: #757575; --neg: #c62828; --ink: #212121; --muted: #616161;
        --line: #e0e0e0; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 0 0 6px; }
h3 { font-size: 1.05rem; margin: 18px 0 6px; }
.meta, .note { color: var(--muted); font-size: .9rem; margin: 0 0 12px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 18px 20px; margin: 18px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px;
         background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card .value { font-size: 1.8rem; font-weight: 600; }
.card .label { color: var(--muted); font-size: .9rem; }
.suppressed { background: #fff8e1; border-left: 4px solid #f9a825; padding: 6px 10px;
              font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin-top: 8px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; }
th { background: #f5f5f5; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; max-height: 520px; overflow-y: auto; }
details { margin-top: 8px; } summary { cursor: pointer; color: var(--muted); }
ul.examples { list-style: none; padding: 0; margin: 0; }
ul.examples li { border-left: 3px solid var(--line); padding: 6px 10px; margin: 6px 0;
                 white-space: pre-wrap; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; color: #fff; background: #5c6bc0;
         border-radius: 10px; padding: 1px 8px; margin-right: 6px; white-space: nowrap; }
.badge.positive { background: var(--pos); } .badge.neutral { background: var(--neu); }
.badge.negative { background: var(--neg); }
mark { background: #fff59d; padding: 0 1px; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: .82rem; }
@media print { section { break-inside: avoid; } .table-wrap { max-height: none; } }
"""

Formatter = Callable[[object], str]


def esc(value: object) -> str:
    """Escape any analyst-provided value for HTML text or attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def pct(value: object) -> str:
    return "" if is_missing(value) else f"{float(value):.1%}"


def signed(value: object) -> str:
    return "" if is_missing(value) else f"{float(value):+.2f}"


def html_table(
    df: pd.DataFrame, formats: Mapping[str, Formatter] | None = None, headers: Mapping[str, str] | None = None
) -> str:
    """A plain escaped HTML table; numeric columns right-aligned."""
    formats, headers = formats or {}, headers or {}
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])}
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{esc(headers.get(c, c))}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for column, value in zip(df.columns, row):
            shown = formats[column](value) if column in formats else ("" if is_missing(value) else value)
            cells.append(f'<td class="{"num" if column in numeric else ""}">{esc(shown)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def cards(numbers: Mapping[str, int]) -> str:
    """The headline numbers."""
    classified = numbers["classified"]
    items = [
        ("comments", "Comments", ""),
        (
            "classified",
            "Classified",
            f"{classified / numbers['comments']:.0%} of comments" if numbers["comments"] else "",
        ),
        ("not_classified", "Not classified", "flagged: empty, not English, …"),
        ("no_theme", "No theme", f"{numbers['no_theme'] / classified:.0%} of classified" if classified else ""),
    ]
    return (
        '<section class="cards">'
        + "".join(
            f'<div class="card" id="count-{key}"><div class="value">{numbers[key]:,}</div>'
            f'<div class="label">{esc(label)}</div><div class="label">{esc(sub)}</div></div>'
            for key, label, sub in items
        )
        + "</section>"
    )


def highlighted(comment: str, evidence: str) -> str:
    """The comment escaped, with the sentence carrying the theme marked when found."""
    at = comment.find(evidence) if evidence and evidence != comment else -1
    if at < 0:  # no evidence, or it is the whole comment: marking it adds nothing
        return esc(comment)
    end = at + len(evidence)
    return f"{esc(comment[:at])}<mark>{esc(comment[at:end])}</mark>{esc(comment[end:])}"


def examples_section(examples: pd.DataFrame, summary: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Representative comments grouped by theme, with a polarity badge per comment."""
    if examples.empty:
        return '<p class="empty">No comments to show.</p>'
    parts = []
    for theme, mentions in zip(summary["theme"], summary["mentions"]):
        rows = examples[examples["theme"] == theme]
        if rows.empty:
            continue
        items = "".join(
            "<li>"
            + "".join(f'<span class="badge {esc(p)}">{esc(p)}</span>' for p in str(r.polarity).split(", ") if p)
            + highlighted(r.comment, r.evidence)
            + "</li>"
            for r in rows.itertuples()
        )
        parts.append(
            f'<h3>{esc(labels[theme])} <span class="note">· {mentions:,} '
            f"mention{'s' if mentions != 1 else ''}</span></h3>"
            f'<ul class="examples">{items}</ul>'
        )
    return "".join(parts)


def section(section_id: str, heading: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<section id="{esc(section_id)}"><h2>{esc(heading)}</h2>{note_html}{body}</section>'


def page(
    title: str,
    subtitle: str,
    body: Sequence[str],
    plotly_js: str | None,
    *,
    extra_css: str = "",
    meta_html: str | None = None,
) -> str:
    """The whole self-contained document: CSP first, CSS and plotly.js (only when there are
    charts) inlined, nothing fetched. ``meta_html`` replaces the escaped ``subtitle`` with markup
    the caller built from escaped parts; ``extra_css`` adds a page's own rules."""
    script = f'<script type="text/javascript">{plotly_js}</script>' if plotly_js else ""
    meta = meta_html if meta_html is not None else esc(subtitle)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{extra_css}</style>\n{script}\n</head>\n<body>\n<main>\n"
        f'<header><h1>{esc(title)}</h1><p class="meta">{meta}</p></header>\n'
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
