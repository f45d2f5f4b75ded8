"""Plotly figures for the analysts' report, drawn only from the tables in report_tables.

Why plotly: interactive hover (net sentiment and n on the heatmap) in one offline HTML
file; plotly.js is inlined once by report.py, each figure here is only a div + script.
Colours are fixed per polarity so every chart reads the same way.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from themesift.nlp.cells import is_missing
from themesift.report.tables import GroupBreakdown

COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}
OTHER_COLOUR = "#5c6bc0"  # polarities beyond the usual three (e.g. SemEval's conflict)
SENTIMENT_SCALE = [[0.0, COLOURS["negative"]], [0.5, "#bdbdbd"], [1.0, COLOURS["positive"]]]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}


def safe_text(values: Sequence[str]) -> list[str]:
    """Plotly renders a subset of HTML (<a href>, <b>, ...) in labels; analysts' group and
    theme names must show as typed, so escape them (plotly decodes the entities)."""
    return [html.escape(str(v), quote=False) for v in values]


def standard_layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 13},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        hoverlabel={"font_family": FONT},
    )
    return fig


def volume_bar(summary: pd.DataFrame, labels: Sequence[str]) -> go.Figure:
    """Horizontal stacked bars: positive / neutral / negative (then any other polarity the model
    has, e.g. conflict, in indigo) comments per theme."""
    fig = go.Figure()
    columns = list(summary.columns)
    polarities = columns[columns.index("mentions") + 1 : columns.index("share")]
    for polarity in polarities:
        shown = html.escape(polarity.capitalize(), quote=False)
        fig.add_trace(
            go.Bar(
                y=safe_text(labels),
                x=summary[polarity].tolist(),
                orientation="h",
                name=shown,
                marker_color=COLOURS.get(polarity, OTHER_COLOUR),
                hovertemplate=f"%{{y}}<br>{shown}: %{{x}}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        legend={"orientation": "h", "y": -0.08, "x": 0},
        xaxis_title="Comments",
        legend_traceorder="normal",
    )
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return standard_layout(fig, 110 + 30 * len(labels))


def sentiment_bubble(summary: pd.DataFrame, labels: Sequence[str]) -> go.Figure:
    """Volume (share of classified comments) against net sentiment, bubble area = mentions."""
    mentions = summary["mentions"].to_numpy()
    biggest = max(int(mentions.max()) if len(mentions) else 1, 1)
    custom = np.column_stack([summary["mentions"], summary["positive"], summary["neutral"], summary["negative"]])
    fig = go.Figure(
        go.Scatter(
            x=summary["share"].tolist(),
            y=summary["net_sentiment"].tolist(),
            text=safe_text(labels),
            mode="markers+text",
            customdata=custom,
            cliponaxis=False,
            # alternate label sides so themes with similar numbers do not print on each other
            textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(labels))],
            marker={
                "size": mentions.tolist(),
                "sizemode": "area",
                "sizemin": 6,
                "sizeref": 2.0 * biggest / 48**2,
                "color": summary["net_sentiment"].tolist(),
                "colorscale": SENTIMENT_SCALE,
                "cmin": -1,
                "cmax": 1,
                "opacity": 0.8,
                "line": {"width": 1, "color": "#424242"},
            },
            hovertemplate=(
                "<b>%{text}</b><br>Share: %{x:.1%}<br>Net sentiment: %{y:+.2f}<br>"
                "Mentions: %{customdata[0]} (+%{customdata[1]} / =%{customdata[2]} / "
                "-%{customdata[3]})<extra></extra>"
            ),
        )
    )
    top = float(summary["share"].max()) if len(summary) else 1.0
    fig.update_xaxes(
        title="Volume: share of classified comments mentioning the theme",
        tickformat=".0%",
        range=[-0.02 * top, top * 1.15 + 0.01],
        zeroline=False,
    )
    fig.update_yaxes(
        title="Net sentiment",
        range=[-1.25, 1.25],
        zeroline=True,
        zerolinecolor="#757575",
        tickvals=[-1, -0.5, 0, 0.5, 1],
    )
    fig.update_layout(showlegend=False)
    return standard_layout(fig, 480)


def group_heatmap(breakdown: GroupBreakdown, themes: Sequence[str], labels: Sequence[str]) -> go.Figure:
    """Themes x groups; cell = share of the group's comments mentioning the theme."""
    groups = breakdown.table["group"].tolist()
    shares = breakdown.table.set_index("group")
    z, text, custom = [], [], []
    for theme in themes:
        z_row, text_row, custom_row = [], [], []
        for group in groups:
            share = float(shares.at[group, theme])
            net = breakdown.net.at[group, theme]
            z_row.append(share)
            text_row.append(f"{share:.0%}")
            custom_row.append(
                [
                    "–" if is_missing(net) else f"{net:+.2f}",
                    int(breakdown.mentions.at[group, theme]),
                    int(shares.at[group, "n"]),
                ]
            )
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    zmax = max((v for row in z for v in row), default=0.0)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=safe_text(groups),
            y=safe_text(labels),
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            colorscale="Blues",
            zmin=0,
            zmax=max(zmax, 0.01),
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": "Share"}, "tickformat": ".0%"},
            hovertemplate=(
                f"{safe_text([breakdown.column])[0]}: %{{x}}<br>Theme: %{{y}}<br>Share: %{{z:.1%}}<br>"
                "Net sentiment: %{customdata[0]}<br>"
                "Mentions: %{customdata[1]} of n = %{customdata[2]}<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(type="category", side="top", automargin=True)
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return standard_layout(fig, 140 + 30 * len(themes))


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure as a div + inline script; plotly.js itself is added once by the page."""
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOT_CONFIG)
