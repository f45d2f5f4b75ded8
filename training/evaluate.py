"""Precision, recall and F1 for theme detection and for theme:polarity, as data; overall and
per segment (``themesift evaluate --by COLUMN``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

BLANK_SEGMENT = "(blank)"


def _themes_only(label_sets: Sequence[Sequence[str]]) -> list[set[str]]:
    return [{lab.split(":")[0] for lab in labels} for labels in label_sets]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(np.shape(num), dtype=float), where=np.asarray(den) > 0)


def _scores(gold: list[set[str]], pred: list[set[str]], labels: list[str]) -> dict:
    # counted directly rather than with sklearn, which reads a one-label indicator matrix
    # as a binary target and scores the "absent" class instead
    index = {lab: j for j, lab in enumerate(labels)}
    G = np.zeros((len(gold), len(labels)), dtype=bool)
    P = np.zeros_like(G)
    for i, (g, p) in enumerate(zip(gold, pred)):
        G[i, [index[x] for x in g]] = True
        P[i, [index[x] for x in p]] = True
    tp, predicted, support = (G & P).sum(axis=0), P.sum(axis=0), G.sum(axis=0)
    precision, recall, f1 = _ratio(tp, predicted), _ratio(tp, support), _ratio(2 * tp, predicted + support)
    micro_p, micro_r = _ratio(tp.sum(), predicted.sum()), _ratio(tp.sum(), support.sum())
    micro_f = _ratio(2 * tp.sum(), predicted.sum() + support.sum())
    out = {
        "micro": {
            "precision": round(float(micro_p), 4),
            "recall": round(float(micro_r), 4),
            "f1": round(float(micro_f), 4),
        },
        "macro": {
            "precision": round(float(precision.mean()) if labels else 0.0, 4),
            "recall": round(float(recall.mean()) if labels else 0.0, 4),
            "f1": round(float(f1.mean()) if labels else 0.0, 4),
        },
    }
    out["per_label"] = [
        {
            "label": lab,
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
            "predicted": int(predicted[i]),
        }
        for i, lab in enumerate(labels)
    ]
    return out


def evaluate_label_sets(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], themes: Sequence[str] | None = None
) -> dict:
    """Micro/macro P/R/F1 for themes (polarity ignored) and for theme:polarity, per-label tables.

    Macro averages run over every label that occurs in gold or predictions (plus
    ``themes``, if given, for the theme level), so a theme the model never predicts counts.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    gold_t, pred_t = _themes_only(gold), _themes_only(pred)
    theme_labels = sorted(set(themes or ()) | set().union(*gold_t, *pred_t))
    gold_l, pred_l = [set(x) for x in gold], [set(x) for x in pred]
    label_labels = sorted(set().union(*gold_l, *pred_l))
    exact = float(np.mean([g == p for g, p in zip(gold_l, pred_l)])) if gold else 0.0
    return {
        "n": len(gold),
        "theme": _scores(gold_t, pred_t, theme_labels),
        "theme_polarity": _scores(gold_l, pred_l, label_labels),
        "exact_match": round(exact, 4),
    }


def unknown_gold_themes(gold: Sequence[Sequence[str]], themes: Sequence[str]) -> dict[str, int]:
    """{gold theme the model does not know: rows carrying it}, most frequent first. The model can
    never find these, so they are misses that say nothing about it: reported apart, never hidden."""
    known, counts = set(themes), {}
    for labels in _themes_only(gold):
        for theme in labels - known:
            counts[theme] = counts.get(theme, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def add_unknown_themes(
    metrics: dict, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], themes: Sequence[str]
) -> dict:
    """Add ``unknown_themes`` (see :func:`unknown_gold_themes`) and, when there are some,
    ``known_themes_only``: the scores with those gold labels left out."""
    unknown = unknown_gold_themes(gold, themes)
    if unknown:
        metrics["unknown_themes"] = unknown
        kept = [[lab for lab in labels if lab.split(":")[0] not in unknown] for labels in gold]
        metrics["known_themes_only"] = evaluate_label_sets(kept, pred, themes=themes)
    return metrics


def format_unknown_themes(metrics: dict, limit: int = 8) -> str | None:
    """The one-line warning for gold themes the model does not know, or None."""
    unknown = metrics.get("unknown_themes")
    if not unknown:
        return None
    names = ", ".join(f"{t} ({n})" for t, n in list(unknown.items())[:limit])
    more = f", and {len(unknown) - limit} more" if len(unknown) > limit else ""
    known = metrics["known_themes_only"]["theme"]["micro"]["f1"]
    return (
        f"warning: {len(unknown)} gold theme{'s' if len(unknown) != 1 else ''} unknown to the model, "
        f"counted as misses: {names}{more} (theme micro F1 without them: {known:.3f})"
    )


def evaluate_model(model, texts: Sequence[str], gold: Sequence[Sequence[str]]) -> dict:
    """``evaluate_label_sets`` of ``model``'s predictions, plus gold themes the model does not know."""
    pred = model.predict(texts)
    return add_unknown_themes(evaluate_label_sets(gold, pred, themes=model.themes), gold, pred, model.themes)


def segment_values(values: Sequence[object]) -> list[str]:
    """Cell values as segment names: stripped strings, with blanks (empty, None, NaN) named
    :data:`BLANK_SEGMENT` so rows without a value are scored and seen, not dropped."""
    from themesift.nlp.cells import is_missing

    out = []
    for value in values:
        name = "" if is_missing(value) else str(value).strip()
        out.append(name or BLANK_SEGMENT)
    return out


def read_segments(
    path: str | os.PathLike, columns: Sequence[str], *, encoding: str | None = None, n_rows: int | None = None
) -> dict[str, list[str]]:
    """{column: segment name per row} from the labeled file itself, row i matching row i of
    ``load_labeled`` (which raises on bad rows rather than dropping them).

    Keys are the file's spelling of each column (``Source`` finds ``source``); a column not
    in the file raises ``TableError`` listing the file's columns.
    """
    from themesift.nlp.tables import TableError, read_table, resolve_text_column

    frame = read_table(path, encoding=encoding)
    if n_rows is not None and len(frame) != n_rows:
        raise TableError(f"{path}: read {len(frame)} rows for the segments but {n_rows} labeled rows")
    found = dict.fromkeys(resolve_text_column(frame.columns, column) for column in columns)  # exact, else casefold
    return {name: segment_values(frame[name].tolist()) for name in found}


def _segment_order(name: str) -> tuple:
    return (name == BLANK_SEGMENT, name.casefold(), name)


def evaluate_segments(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    segments: Mapping[str, Sequence[object]],
    *,
    themes: Sequence[str] | None = None,
) -> dict[str, dict[str, dict]]:
    """{column: {segment: evaluate_label_sets of that segment's rows}}, segments sorted by name
    (blank last); ``pred`` is computed once by the caller and sliced, never re-predicted."""
    out = {}
    for column, values in segments.items():
        names = segment_values(values)
        if len(names) != len(gold):
            raise ValueError(f"segment column {column!r} has {len(names)} values for {len(gold)} rows")
        rows: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            rows.setdefault(name, []).append(i)
        out[column] = {
            name: evaluate_label_sets([gold[i] for i in rows[name]], [pred[i] for i in rows[name]], themes=themes)
            for name in sorted(rows, key=_segment_order)
        }
    return out


def evaluate_by(
    model, texts: Sequence[str], label_sets: Sequence[Sequence[str]], segments: Mapping[str, Sequence[object]]
) -> dict:
    """``evaluate_model``'s metrics plus ``"by"``: {column: {segment: metrics}}, from ONE
    ``model.predict`` call shared by the overall figure and every segment."""
    pred = model.predict(texts)
    metrics = add_unknown_themes(
        evaluate_label_sets(label_sets, pred, themes=model.themes), label_sets, pred, model.themes
    )
    metrics["by"] = evaluate_segments(label_sets, pred, segments, themes=model.themes)
    return metrics


def _segment_line(name: str, m: dict, width: int) -> str:
    shown = name if len(name) < width else name[: width - 2] + "…"
    return f"{shown:<{width}}{m['n']:>6}" + "".join(
        f"{m[level]['micro']['precision']:>7.3f}{m[level]['micro']['recall']:>7.3f}"
        f"{m[level]['micro']['f1']:>7.3f}{m[level]['macro']['f1']:>7.3f}"
        for level in ("theme", "theme_polarity")
    )


def format_segments(metrics: dict, *, max_width: int = 28) -> str:
    """One compact table per ``--by`` column: n and micro P/R/F1 (and macro F1) per segment,
    then the overall row, the same figure as the headline table's."""
    blocks = []
    for column, by_segment in metrics.get("by", {}).items():
        width = max(len("(overall)") + 2, min(max_width, max(map(len, by_segment), default=0) + 2))
        count = f"{len(by_segment)} segment{'s' if len(by_segment) != 1 else ''}"
        blocks.append(
            "\n".join(
                [
                    f"by {column}: {count} (P, R, F1 micro-averaged; macro = macro F1)",
                    f"{'':<{width + 6}}{'theme':^28}{'theme:polarity':^28}".rstrip(),
                    f"{'segment':<{width}}{'n':>6}" + f"{'P':>7}{'R':>7}{'F1':>7}{'macro':>7}" * 2,
                    *(_segment_line(name, m, width) for name, m in by_segment.items()),
                    _segment_line("(overall)", metrics, width),
                ]
            )
        )
    return "\n\n".join(blocks)


def format_metrics(metrics: dict, *, per_label: bool = True) -> str:
    """A plain-text summary table, for the terminal."""
    lines = [
        f"comments: {metrics['n']}   exact match: {metrics['exact_match']:.3f}",
        "",
        f"{'level':<16}{'avg':<7}{'P':>7}{'R':>7}{'F1':>7}",
    ]
    for level in ("theme", "theme_polarity"):
        for avg in ("micro", "macro"):
            m = metrics[level][avg]
            lines.append(f"{level:<16}{avg:<7}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}")
    if per_label:
        lines += ["", f"{'label':<38}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}"]
        for row in metrics["theme_polarity"]["per_label"]:
            lines.append(
                f"{row['label']:<38}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}{row['support']:>9}"
            )
    return "\n".join(lines)
