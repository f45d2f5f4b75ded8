"""The analysis sections of ``themesift report``: an executive summary, drivers, trends, groups.

Built from the same functions as the commands (drivers, trends, compare_groups) and drawn with the
report's own kit (report.page, report.charts), so the page stays one offline file. The summary
says each finding as a plain sentence with its number and 95 % interval, and says "no
significant change" (or driver, or difference) when that is the answer: q < 0.05 after
Benjamini-Hochberg is the bar for every sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from themesift.analysis.drivers import drivers
from themesift.analysis.groups import compare_groups
from themesift.analysis.predictions import column, row_labels
from themesift.analysis.trends import trends
from themesift.report import page as kit
from themesift.report.charts import COLOURS, figure_html, safe_text, standard_layout

SIGNIFICANT = 0.05


@dataclass
class AnalysisOptions:
    """What the report analyses beyond counts (the report's --score, --time and --by flags)."""

    score: str | None = None
    score_kind: str = "mean"
    time: str | None = None
    period: str = "quarter"
    dayfirst: bool | None = None
    by: Sequence[str] = ()
    min_group_size: int = 5
    min_count: int = 30


@dataclass
class Sections:
    top: list[str] = field(default_factory=list)  # the executive summary
    body: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def analysis_sections(options: AnalysisOptions) -> Callable[[pd.DataFrame, Mapping[str, str]], Sections]:
    """The hook ``report.build_report(extra=...)`` calls with the predictions frame and theme names."""

    def build(df: pd.DataFrame, names: Mapping[str, str]) -> Sections:
        labels = row_labels(df)
        out = Sections()
        shares = _shares(labels)
        sentences: list[tuple[str, str]] = _strengths_and_concerns(shares, names)
        if options.score:
            table = drivers(
                labels,
                column(df, options.score, "--score").tolist(),
                kind=options.score_kind,
                min_count=options.min_count,
            )
            out.tables["drivers"] = table
            out.body.append(_drivers_section(table, options, names))
            sentences.append(("Biggest drivers", _driver_sentence(table, options, names)))
        if options.time:
            table = trends(
                labels, column(df, options.time, "--time").tolist(), period=options.period, dayfirst=options.dayfirst
            )
            out.tables["trends"] = table
            out.body.append(_trends_section(table, options, names))
            sentences.append(("Biggest movers", _mover_sentence(table, names)))
        for i, by in enumerate(options.by):
            table = compare_groups(labels, column(df, by, "--by").tolist(), min_group_size=options.min_group_size)
            out.tables[f"groups_{by}"] = table
            out.body.append(_groups_section(i, by, table, names))
            sentences.append((f"By {by}", _group_sentence(table, names)))
        items = "".join(f"<li><b>{kit.esc(head)}:</b> {kit.esc(text)}</li>" for head, text in sentences)
        out.top.append(
            kit.section(
                "executive-summary",
                "Executive summary",
                f'<ul class="summary">{items}</ul>',
                "Each finding with its 95% interval; a change, driver or difference is named "
                "only when significant (q < 0.05 after Benjamini-Hochberg).",
            )
        )
        return out

    return build


def _name(label: str, names: Mapping[str, str]) -> str:
    theme, _, polarity = label.partition(":")
    return f"{names.get(theme, theme)} ({polarity})" if polarity else names.get(theme, theme)


def _shares(label_sets: Sequence[Sequence[str] | None]) -> pd.DataFrame:
    from statsmodels.stats.proportion import proportion_confint

    classified = [labels for labels in label_sets if labels is not None]
    counts = pd.Series([lab for labels in classified for lab in labels], dtype=object).value_counts()
    n = len(classified)
    rows = []
    for label, count in counts.items():
        low, high = proportion_confint(int(count), n, method="wilson") if n else (float("nan"),) * 2
        rows.append({"label": label, "n": int(count), "share": count / n if n else 0.0, "low": low, "high": high})
    return pd.DataFrame(rows, columns=["label", "n", "share", "low", "high"])


def _strengths_and_concerns(shares: pd.DataFrame, names: Mapping[str, str]) -> list[tuple[str, str]]:
    out = []
    for head, polarity in (("Strengths", "positive"), ("Concerns", "negative")):
        top = shares[shares["label"].str.endswith(f":{polarity}")].head(3)
        text = "; ".join(
            f"{_name(r.label, names)} in {r.share:.0%} of comments ({r.low:.0%}–{r.high:.0%})" for r in top.itertuples()
        )
        out.append((head, text or f"no {polarity} theme mentioned"))
    return out


def _driver_sentence(table: pd.DataFrame, options: AnalysisOptions, names: Mapping[str, str]) -> str:
    unit = "NPS points" if options.score_kind == "nps" else "points"
    hits = table[table["estimated"] & (table["q_value"] < SIGNIFICANT)]
    if hits.empty:
        return f"no theme moves {options.score} significantly"
    top = hits.reindex(hits["impact"].abs().sort_values(ascending=False).index).head(3)
    parts = []
    for r in top.itertuples():
        low, high = sorted((abs(r.ci_low), abs(r.ci_high)))
        verb = "raises" if r.impact > 0 else "lowers"
        size = f"{abs(r.impact):.2f} {unit} ({low:.2f}–{high:.2f})"
        parts.append(f"{_name(r.label, names)} {verb} {options.score} by {size}")
    return "; ".join(parts)


def _mover_sentence(table: pd.DataFrame, names: Mapping[str, str]) -> str:
    periods = table.attrs.get("periods", [])
    if len(periods) < 2:
        return "one period only: nothing to compare"
    last = table[(table["period"] == periods[-1]) & (table["q_value"] < SIGNIFICANT)]
    if last.empty:
        return f"no significant change from {periods[-2]} to {periods[-1]}"
    top = last.reindex(last["change"].abs().sort_values(ascending=False).index).head(3)
    return "; ".join(
        f"{_name(r.label, names)} {'rose' if r.change > 0 else 'fell'} from {r.previous_share:.0%} to "
        f"{r.share:.0%} ({r.change * 100:+.0f} points, {r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}) "
        f"since {r.previous_period}"
        for r in top.itertuples()
    )


def _group_sentence(table: pd.DataFrame, names: Mapping[str, str]) -> str:
    shown = table[~table["suppressed"].astype(bool)]
    hits = shown[shown["q_value"] < SIGNIFICANT]
    if hits.empty:
        return "no group differs significantly from the rest"
    top = hits.reindex(hits["difference"].abs().sort_values(ascending=False).index).head(3)
    return "; ".join(
        f"{r.group}: {_name(r.label, names)} {r.difference * 100:+.0f} points against the rest "
        f"({r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f})"
        for r in top.itertuples()
    )


def _polarity_colour(label: str) -> str:
    return COLOURS.get(label.partition(":")[2], "#5c6bc0")


def _drivers_section(table: pd.DataFrame, options: AnalysisOptions, names: Mapping[str, str]) -> str:
    est = table[table["estimated"]]
    fig = go.Figure(
        go.Scatter(
            x=est["share"].tolist(),
            y=est["impact"].tolist(),
            mode="markers+text",
            text=safe_text([_name(lab, names) for lab in est["label"]]),
            textposition="top center",
            marker={"color": [_polarity_colour(lab) for lab in est["label"]], "size": 9},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (est["ci_high"] - est["impact"]).tolist(),
                "arrayminus": (est["impact"] - est["ci_low"]).tolist(),
                "thickness": 1,
            },
            hovertemplate="%{text}<br>share %{x:.1%}<br>impact %{y:+.3f}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_color="#9e9e9e", line_width=1)
    fig.update_layout(
        xaxis_title="Share of scored comments", yaxis_title=f"Impact on {options.score}", xaxis_tickformat=".0%"
    )
    shown = est.loc[:, ["label", "n", "impact", "ci_low", "ci_high", "q_value"]]
    body = figure_html(standard_layout(fig, 460), "chart-drivers") + kit.html_table(
        shown, {c: kit.signed for c in ("impact", "ci_low", "ci_high")} | {"q_value": lambda v: f"{float(v):.3g}"}
    )
    note = (
        f"Impact: the change in {options.score} with the theme, all themes in one least-squares model, "
        "bars = 95% robust interval; right = talked about more. Themes on fewer than "
        f"{options.min_count} scored comments are not estimated."
    )
    return kit.section("drivers", f"What moves {options.score}", body, note)


def _trends_section(table: pd.DataFrame, options: AnalysisOptions, names: Mapping[str, str]) -> str:
    top = table.groupby("label")["n"].sum().sort_values(ascending=False).head(6).index.tolist()
    fig = go.Figure()
    for label in top:
        rows = table[table["label"] == label]
        fig.add_trace(
            go.Scatter(
                x=rows["period"].tolist(),
                y=rows["share"].tolist(),
                mode="lines+markers",
                name=safe_text([_name(label, names)])[0],
            )
        )
    fig.update_layout(
        yaxis_tickformat=".0%", yaxis_title="Share of comments", legend={"orientation": "h", "y": -0.2, "x": 0}
    )
    fig.update_xaxes(type="category")
    moved = table[table["q_value"] < SIGNIFICANT].loc[
        :, ["label", "previous_period", "period", "previous_share", "share", "change", "ci_low", "ci_high", "q_value"]
    ]
    body = figure_html(standard_layout(fig, 420), "chart-trends") + (
        kit.html_table(
            moved,
            {c: kit.pct for c in ("previous_share", "share", "change", "ci_low", "ci_high")}
            | {"q_value": lambda v: f"{float(v):.3g}"},
        )
        if len(moved)
        else '<p class="empty">No significant change between consecutive periods.</p>'
    )
    excluded = table.attrs.get("n_excluded", 0)
    note = (
        f"Share of classified comments per {options.period} for the six most mentioned themes; the table lists "
        "the significant changes against the previous period (95% Newcombe interval)."
        + (f" {excluded} rows without a usable date left out." if excluded else "")
    )
    return kit.section("trends", "Change over time", body, note)


def _groups_section(index: int, by: str, table: pd.DataFrame, names: Mapping[str, str]) -> str:
    shown = table[~table["suppressed"].astype(bool)]
    if shown.empty:
        return kit.section(
            f"groups-{index}",
            f"{by}: groups against the rest",
            '<p class="empty">No group is large enough to show.</p>',
        )
    grid = shown.pivot(index="label", columns="group", values="difference")
    marks = shown.pivot(index="label", columns="group", values="q_value").reindex_like(grid)
    groups = sorted(grid.columns, key=lambda g: -table.attrs["group_sizes"].get(g, 0))
    grid, marks = grid[groups], marks[groups]
    fig = go.Figure(
        go.Heatmap(
            z=(grid * 100).round(1).values.tolist(),
            x=safe_text(groups),
            y=safe_text([_name(lab, names) for lab in grid.index]),
            text=[["*" if q < SIGNIFICANT else "" for q in row] for row in marks.values.tolist()],
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0,
            colorbar={"title": "points"},
            hovertemplate="%{x} · %{y}<br>%{z:+.1f} points against the rest<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", side="top")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    hidden = len(table.attrs.get("suppressed", []))
    note = (
        "Share of the group's comments with the theme minus the share among all others, in points; "
        "* = significant (q < 0.05)." + (f" {hidden} small groups hidden, with complements." if hidden else "")
    )
    return kit.section(
        f"groups-{index}",
        f"{by}: groups against the rest",
        figure_html(standard_layout(fig, 160 + 26 * len(grid)), f"chart-groups-{index}"),
        note,
    )
