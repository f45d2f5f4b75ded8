"""Charts and HTML pieces of the evaluation report.

Why separate: the page must open offline, so every chart is a plotly figure rendered
without its library (plotly.js is inlined once by the page), every value that came from
the user's data is escaped here, and the numbers shown carry their exact value in a
``data-value`` attribute so tests (and curious users) can check them.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.metrics import average_precision_score, precision_recall_curve

from themesift.nlp.cells import is_missing
from themesift.report import page as kit
from themesift.report.page import esc

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
MAX_CURVE_POINTS = 400

# the evaluation report's own rules, on top of the shared page kit (themesift.report.page)
CSS = """
.wrap { overflow-x: auto; max-height: 560px; overflow-y: auto; }
.wrap table { width: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 10px; }
.grid h3 { font-size: .9rem; margin: 6px 0 0; }
td.text { max-width: 520px; white-space: pre-wrap; overflow-wrap: anywhere; }
table.confusion th, table.confusion td { padding: 3px 6px; }
.pos { color: #2e7d32; } .neg { color: #c62828; }
"""


def num(value: float | None, digits: int = 3, *, signed: bool = False, key: str | None = None) -> str:
    """A right-aligned numeric cell; ``data-value`` holds the unrounded number."""
    if is_missing(value):
        return '<td class="num">–</td>'
    shown = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    cls = "num" + ((" pos" if value > 0 else " neg" if value < 0 else "") if signed else "")
    attr = f' data-metric="{esc(key)}"' if key else ""
    return f'<td class="{cls}"{attr} data-value="{esc(repr(float(value)))}">{shown}</td>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric_from: int = 1, attrs: str = "") -> str:
    """An HTML table from header names and rows of ready-made ``<td>`` cells."""
    head = "".join(f'<th class="{"num" if i >= numeric_from else ""}">{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f'<div class="wrap"><table {attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def td(value: object, cls: str = "") -> str:
    return f'<td class="{cls}">{esc(value)}</td>' if cls else f"<td>{esc(value)}</td>"


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure's div and script, without plotly.js (the page inlines it once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG)


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    n = len(arrays[0])
    if n <= MAX_CURVE_POINTS:
        return list(arrays)
    keep = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))
    return [a[keep] for a in arrays]


def presence_curves(scores: np.ndarray, gold: np.ndarray, themes: Sequence[str], thresholds: np.ndarray) -> list[dict]:
    """Per theme: precision-recall curve of the presence score, AP, and the operating point."""
    out = []
    for t, theme in enumerate(themes):
        g, s, thr = gold[:, t].astype(bool), scores[:, t], float(thresholds[t])
        pred = s >= thr
        tp = int((pred & g).sum())
        row = {
            "theme": theme,
            "threshold": round(thr, 4),
            "support": int(g.sum()),
            "predicted": int(pred.sum()),
            "precision_at_threshold": round(tp / pred.sum(), 4) if pred.sum() else 0.0,
            "recall_at_threshold": round(tp / g.sum(), 4) if g.sum() else None,
            "average_precision": None,
            "curve": None,
        }
        if g.any() and not g.all():
            precision, recall, _ = precision_recall_curve(g, s)
            row["average_precision"] = round(float(average_precision_score(g, s)), 4)
            p, r = _thin(precision, recall)
            row["curve"] = {"precision": p.round(4).tolist(), "recall": r.round(4).tolist()}
        out.append(row)
    return out


def pr_figure(curves: list[dict], cols: int = 4) -> go.Figure:
    """Small multiples: one precision-recall panel per theme, the chosen threshold as a red dot."""
    rows = max(1, math.ceil(len(curves) / cols))
    titles = [
        f"{c['theme']} (AP {c['average_precision']:.2f})"
        if c["average_precision"] is not None
        else f"{c['theme']} (no gold)"
        for c in curves
    ]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.5 / rows
    )
    for i, c in enumerate(curves):
        r, k = i // cols + 1, i % cols + 1
        if c["curve"]:
            fig.add_trace(
                go.Scatter(
                    x=c["curve"]["recall"],
                    y=c["curve"]["precision"],
                    mode="lines",
                    line={"color": "#1565c0", "width": 1.5},
                    name=c["theme"],
                    showlegend=False,
                    hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<extra></extra>",
                ),
                row=r,
                col=k,
            )
        else:  # keep the panel, and say why it is empty
            fig.add_trace(
                go.Scatter(
                    x=[0.5], y=[0.5], mode="text", text=["no gold mentions"], showlegend=False, hoverinfo="skip"
                ),
                row=r,
                col=k,
            )
        if c["recall_at_threshold"] is not None:
            fig.add_trace(
                go.Scatter(
                    x=[c["recall_at_threshold"]],
                    y=[c["precision_at_threshold"]],
                    mode="markers",
                    marker={"color": "#c62828", "size": 8},
                    showlegend=False,
                    name=f"threshold {c['threshold']:.2f}",
                    hovertemplate=f"threshold {c['threshold']:.2f}<br>recall %{{x:.3f}}<br>"
                    "precision %{y:.3f}<extra></extra>",
                ),
                row=r,
                col=k,
            )
    fig.update_xaxes(range=[0, 1.02], title_text="recall", title_font_size=10, tickfont_size=9)
    fig.update_yaxes(range=[0, 1.05], title_text="precision", title_font_size=10, tickfont_size=9)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=230 * rows + 40, margin={"l": 40, "r": 10, "t": 40, "b": 30}, template="plotly_white")
    return fig


def reliability_figure(calibration: dict) -> go.Figure:
    """Reliability diagrams for presence and polarity: accuracy per confidence bin vs the diagonal."""
    parts = [
        ("presence", "theme presence: P(present) vs share present"),
        ("polarity", "polarity: top-polarity confidence vs share correct"),
    ]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=[f"{title} — ECE {calibration[key]['ece']:.3f}" for key, title in parts]
    )
    for k, (key, _) in enumerate(parts, start=1):
        bins = [b for b in calibration[key]["bins"] if b["count"]]
        centers = [(b["lower"] + b["upper"]) / 2 for b in bins]
        fig.add_trace(
            go.Bar(
                x=centers,
                y=[b["accuracy"] for b in bins],
                width=0.09,
                marker_color="#90caf9",
                name="accuracy",
                showlegend=k == 1,
                customdata=[[b["count"], b["mean_confidence"]] for b in bins],
                hovertemplate="bin %{x:.2f}<br>accuracy %{y:.3f}<br>mean confidence "
                "%{customdata[1]:.3f}<br>pairs %{customdata[0]}<extra></extra>",
            ),
            row=1,
            col=k,
        )
        fig.add_trace(
            go.Scatter(
                x=[b["mean_confidence"] for b in bins],
                y=[b["accuracy"] for b in bins],
                mode="markers+lines",
                marker_color="#1565c0",
                name="bin (mean confidence, accuracy)",
                showlegend=k == 1,
            ),
            row=1,
            col=k,
        )
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line={"dash": "dash", "color": "#9e9e9e"},
                name="perfect calibration",
                showlegend=k == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=k,
        )
    fig.update_xaxes(range=[0, 1], title_text="confidence")
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy")
    fig.update_annotations(font_size=12)
    fig.update_layout(
        height=380,
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def page(title: str, meta: str, sections: Sequence[str], plotly_js: str) -> str:
    """The whole self-contained document, from the shared page kit; ``meta`` is markup built
    from escaped parts."""
    return kit.page(title, "", sections, plotly_js, extra_css=CSS, meta_html=meta)
