"""Labeled data in: any supported table with a text column and labels in one of three layouts."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from themesift.models.audience import AudienceError, check_audience
from themesift.models.labels import POLARITIES, LabelSpace
from themesift.nlp.normalize import normalize_text, text_problem
from themesift.nlp.tables import read_table, resolve_text_column
from themesift.training.labels_io import (LabelDataError, is_polarity_column, parse_label_column,
                                          parse_theme_columns)


@dataclass
class LabeledData:
    texts: list[str]
    label_sets: list[list[str]]
    source: str = ""
    polarities: tuple[str, ...] = POLARITIES  # the polarity values the labels were checked against
    audiences: list[str | None] | None = None  # per row, from an audience column (None: not given)

    def __len__(self) -> int:
        return len(self.texts)

    def data_hash(self) -> str:
        """sha256 over the (text, labels) records: identifies exactly what a model saw."""
        h = hashlib.sha256()
        for text, labels in zip(self.texts, self.label_sets):
            h.update(json.dumps([text, sorted(labels)], ensure_ascii=False).encode("utf-8"))
            h.update(b"\n")
        return "sha256:" + h.hexdigest()

    def subset(self, idx: Sequence[int]) -> "LabeledData":
        return LabeledData([self.texts[i] for i in idx], [self.label_sets[i] for i in idx], self.source,
                           self.polarities, None if self.audiences is None else [self.audiences[i] for i in idx])

    def __add__(self, other: "LabeledData") -> "LabeledData":
        audiences = None
        if self.audiences is not None or other.audiences is not None:
            audiences = (self.audiences or [None] * len(self)) + (other.audiences or [None] * len(other))
        return LabeledData(self.texts + other.texts, self.label_sets + other.label_sets,
                           f"{self.source} + {other.source}", self.polarities, audiences)


def load_labeled(path: str | Path, *, text_column: str = "text", labels_column: str | None = "labels",
                 label_columns: Sequence[str] | None = None, label_space: LabelSpace | None = None,
                 encoding: str | None = None, polarities: Sequence[str] | None = None,
                 audience_column: str | None = None, exclude: Sequence[str] = ()) -> LabeledData:
    """Read texts and label sets; every bad value is an error naming file, row and value.

    Labels come from ``labels_column`` (a list or ``;``-separated ``theme:polarity``), or
    from ``label_columns`` (one column per theme holding a polarity or blank). When the
    labels column is absent and every other column holds only polarities and blanks,
    those columns are taken as theme columns. ``polarities`` widens the allowed polarity values
    (e.g. SemEval's ``conflict``); default: the label space's, else positive/negative/neutral.
    ``audience_column`` (default: a column named ``audience``, when there is one) holds each row's
    ``employee`` / ``customer`` (blank: unknown), which trains the model's audience detector.
    ``exclude`` (``COLUMN=VALUE`` strings) leaves out the rows where COLUMN holds VALUE, e.g. one
    source whose licence does not fit; row numbers in errors then count the rows kept.
    """
    source = str(path)
    pols = tuple(polarities) if polarities else (label_space.polarities if label_space else POLARITIES)
    frame = read_table(path, encoding=encoding)
    if "_parse_error" in frame:
        bad = frame[frame["_parse_error"].notna()]  # None on good rows (astype(str) would make it "None")
        if len(bad):
            raise LabelDataError(f"{source}: {bad['_parse_error'].iloc[0]}")
    frame = _drop_excluded(frame, exclude, source)
    text_column = resolve_text_column(list(frame.columns), text_column)
    if label_columns:
        missing = [c for c in label_columns if c not in frame.columns]
        if missing:
            raise LabelDataError(f"{source}: label columns {missing} not found; columns are {list(frame.columns)}")
        label_sets = parse_theme_columns(frame, label_columns, source=source, polarities=pols)
    elif labels_column and labels_column in frame.columns:
        label_sets = parse_label_column(frame[labels_column].tolist(), source=source, column=labels_column,
                                        polarities=pols)
    else:
        others = [c for c in frame.columns if c not in (text_column, audience_column, "audience")]
        detected = [c for c in others if is_polarity_column(frame[c].tolist(), pols)]
        if not detected or len(detected) != len([c for c in others if c.lower() not in ("id", "source")]):
            raise LabelDataError(f"{source}: no labels column {labels_column!r}; columns are {list(frame.columns)} "
                                 "(use --labels-column, or --label-columns for one column per theme)")
        label_sets = parse_theme_columns(frame, detected, source=source, polarities=pols)
    texts = []
    for i, value in enumerate(frame[text_column].tolist()):
        problem = text_problem(value)
        if problem:
            raise LabelDataError(f"{source}, row {i + 1}, column {text_column!r}: {problem} text")
        texts.append(normalize_text(value))
    if label_space is not None:
        for i, labels in enumerate(label_sets):
            for label in labels:
                theme = label.split(":")[0]
                if theme not in label_space.themes:
                    raise LabelDataError(f"{source}, row {i + 1}: theme {theme!r} is not in the taxonomy "
                                         f"({', '.join(label_space.themes)})")
    return LabeledData(texts, label_sets, source, pols, _audiences(frame, audience_column, source))


def _drop_excluded(frame, exclude: Sequence[str], source: str):
    if not exclude:
        return frame
    keep = None
    for rule in exclude:
        column, sep, value = rule.partition("=")
        if not sep or not column:
            raise LabelDataError(f"--exclude expects COLUMN=VALUE, got {rule!r}")
        if column not in frame.columns:
            raise LabelDataError(f"{source}: --exclude column {column!r} not found; columns are {list(frame.columns)}")
        hit = frame[column].astype("string").fillna("") == value
        keep = ~hit if keep is None else keep & ~hit
    return frame[keep].reset_index(drop=True)


def _audiences(frame, column: str | None, source: str) -> list[str | None] | None:
    if column is None:
        if "audience" not in frame.columns:
            return None
        column = "audience"
    if column not in frame.columns:
        raise LabelDataError(f"{source}: audience column {column!r} not found; columns are {list(frame.columns)}")
    out = []
    for i, value in enumerate(frame[column].tolist()):
        try:
            out.append(check_audience(value))
        except AudienceError as exc:
            raise LabelDataError(f"{source}, row {i + 1}, column {column!r}: {exc}") from None
    return out
