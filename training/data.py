"""Labeled data in: any supported table with a text column and labels in one of three layouts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from themesift.models.audience import AudienceError, check_audience
from themesift.models.labels import POLARITIES, LabelSpace
from themesift.nlp.cells import is_empty_cell
from themesift.nlp.normalize import normalize_text, text_problem
from themesift.nlp.tables import TableError, parse_error_column, read_table, resolve_text_column
from themesift.training.argilla import from_argilla, is_argilla_export, records_file
from themesift.training.labels_io import (
    LabelDataError,
    from_label_studio,
    is_polarity_column,
    parse_label_column,
    parse_theme_columns,
)


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

    def subset(self, idx: Sequence[int]) -> LabeledData:
        return LabeledData(
            [self.texts[i] for i in idx],
            [self.label_sets[i] for i in idx],
            self.source,
            self.polarities,
            None if self.audiences is None else [self.audiences[i] for i in idx],
        )

    def __add__(self, other: LabeledData) -> LabeledData:
        audiences = None
        if self.audiences is not None or other.audiences is not None:
            audiences = (self.audiences or [None] * len(self)) + (other.audiences or [None] * len(other))
        return LabeledData(
            self.texts + other.texts,
            self.label_sets + other.label_sets,
            f"{self.source} + {other.source}",
            self.polarities,
            audiences,
        )


def load_labeled(
    path: str | Path,
    *,
    text_column: str | None = None,
    labels_column: str | None = "labels",
    label_columns: Sequence[str] | None = None,
    label_space: LabelSpace | None = None,
    encoding: str | None = None,
    polarities: Sequence[str] | None = None,
    audience_column: str | None = None,
    exclude: Sequence[str] = (),
    known_themes: Sequence[str] | None = None,
) -> LabeledData:
    """Read texts and label sets from a file; every bad value is an error naming file, row and value.

    See :func:`labeled_from_frame` for the layouts and options.
    """
    path = records_file(path)  # an Argilla to_disk folder: its records.json
    source = str(path)
    frame = read_table(path, encoding=encoding)
    marker = parse_error_column(frame)  # the reader's own column, never a user column of that name
    if marker is not None:
        bad = frame[frame[marker].notna()]  # None on good rows (astype(str) would make it "None")
        if len(bad):
            raise LabelDataError(f"{source}: {bad[marker].iloc[0]}")
        frame = frame.drop(columns=[marker])
    return labeled_from_frame(
        frame,
        source,
        text_column=text_column,
        labels_column=labels_column,
        label_columns=label_columns,
        label_space=label_space,
        polarities=polarities,
        audience_column=audience_column,
        exclude=exclude,
        known_themes=known_themes,
    )


def labeled_from_frame(
    frame,
    source: str = "data",
    *,
    text_column: str | None = None,
    labels_column: str | None = "labels",
    label_columns: Sequence[str] | None = None,
    label_space: LabelSpace | None = None,
    polarities: Sequence[str] | None = None,
    audience_column: str | None = None,
    exclude: Sequence[str] = (),
    known_themes: Sequence[str] | None = None,
) -> LabeledData:
    """Texts and label sets from a table (a file read, or a DataFrame given to ``themesift.train``).

    Labels come from ``labels_column`` (a list or ``;``-separated ``theme:polarity``), or
    from ``label_columns`` (one column per theme holding a polarity or blank). When the
    labels column is absent, the theme columns are those named after a theme the model or
    taxonomy knows (``known_themes``, else ``label_space``'s), plus any other column holding
    only polarities and blanks; other columns (ids, departments) are then ignored. Without
    known themes, every column but the text, id and source columns must be such a column.
    ``polarities`` widens the allowed polarity values (e.g. SemEval's ``conflict``); default:
    the label space's, else positive/negative/neutral.
    ``audience_column`` (default: a column named ``audience``, when there is one) holds each row's
    ``employee`` / ``customer`` (blank: unknown), which trains the model's audience detector.
    ``exclude`` (``COLUMN=VALUE`` strings) leaves out the rows where COLUMN holds VALUE, e.g. one
    source whose licence does not fit; row numbers in errors then count the rows kept.
    """
    pols = tuple(polarities) if polarities else (label_space.polarities if label_space else POLARITIES)
    if {"data", "annotations"} <= set(frame.columns):  # a Label Studio export (themesift suggest's loop)
        frame = from_label_studio(frame, source)
    elif is_argilla_export(frame):  # Argilla records (suggest --format argilla's loop)
        labels_column = labels_column or "labels"
        frame = from_argilla(frame, source, labels_column=labels_column, text_column=text_column, polarities=pols)
    frame = _drop_excluded(frame, exclude, source)
    try:
        text_column = resolve_text_column(list(frame.columns), text_column)
    except TableError as exc:
        raise LabelDataError(f"{source}: {exc} (--text-column)") from None
    if label_columns:
        missing = [c for c in label_columns if c not in frame.columns]
        if missing:
            raise LabelDataError(f"{source}: --label-columns {missing} not found; columns are {list(frame.columns)}")
        label_sets = parse_theme_columns(frame, label_columns, source=source, polarities=pols)
    elif labels_column and labels_column in frame.columns:
        label_sets = parse_label_column(
            frame[labels_column].tolist(), source=source, column=labels_column, polarities=pols
        )
    else:
        others = [c for c in frame.columns if c not in (text_column, audience_column, "audience")]
        known = set(known_themes if known_themes is not None else (label_space.themes if label_space else ()))
        detected = [c for c in others if c in known or is_polarity_column(frame[c].tolist(), pols)]
        uses_known = any(c in known for c in detected)
        if not detected or (
            not uses_known and len(detected) != len([c for c in others if str(c).lower() not in ("id", "source")])
        ):
            _near_theme_column(frame, [c for c in others if c not in detected], pols, source)
            raise LabelDataError(
                f"{source}: no labels column {labels_column!r}; columns are {list(frame.columns)} "
                "(use --labels-column, or --label-columns for one column per theme)"
            )
        label_sets = parse_theme_columns(frame, detected, source=source, polarities=pols)
    texts = []
    for i, value in enumerate(frame[text_column].tolist()):
        problem = text_problem(value)
        if problem:
            raise LabelDataError(f"{source}, row {i + 1}, column {text_column!r}: {problem} text")
        texts.append(normalize_text(value))
    if label_space is not None:
        _check_in_space(label_sets, label_space, source)
    return LabeledData(texts, label_sets, source, pols, _audiences(frame, audience_column, source))


def _near_theme_column(frame, columns: Sequence[str], polarities: Sequence[str], source: str) -> None:
    """A column that is mostly polarities but holds one bad cell is a theme column with a typo:
    name that cell (probe L85) rather than say only that no labels column was found."""
    for column in columns:
        values = frame[column].tolist()
        filled = [(i, v) for i, v in enumerate(values) if not is_empty_cell(v)]
        good = sum(isinstance(v, str) and v.strip().lower() in polarities for _, v in filled)
        if filled and good >= max(1, len(filled) // 2) and good < len(filled):
            i, bad = next((i, v) for i, v in filled if not (isinstance(v, str) and v.strip().lower() in polarities))
            raise LabelDataError(
                f"{source}, row {i + 1}, column {column!r}: {bad!r} is not a polarity "
                f"({', '.join(polarities)}) or blank, in what looks like a theme column "
                "(or name the labels with --labels-column / --label-columns)"
            )


def labeled_from_lists(
    texts: Sequence[str],
    labels: Sequence,
    *,
    source: str = "labels",
    polarities: Sequence[str] | None = None,
    label_space: LabelSpace | None = None,
) -> LabeledData:
    """Texts and labels given in memory (``themesift.train(texts, labels)``): each labels item a
    list of ``theme:polarity`` strings or one ``;``-separated string; errors name the row."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise LabelDataError(f"{len(texts)} texts but {len(labels)} label sets: give one label set per text")
    pols = tuple(polarities) if polarities else (label_space.polarities if label_space else POLARITIES)
    label_sets = parse_label_column(labels, source=source, column="labels", polarities=pols)
    clean = []
    for i, value in enumerate(texts):
        problem = text_problem(value)
        if problem:
            raise LabelDataError(f"texts, row {i + 1}: {problem} text")
        clean.append(normalize_text(value))
    if label_space is not None:
        _check_in_space(label_sets, label_space, source)
    return LabeledData(clean, label_sets, source, pols)


def _check_in_space(label_sets: list[list[str]], label_space: LabelSpace, source: str) -> None:
    by_case = {t.casefold(): t for t in label_space.themes}
    for i, labels in enumerate(label_sets):
        for label in labels:
            theme = label.split(":")[0]
            if theme not in label_space.themes:
                hint = f"; did you mean {by_case[theme.casefold()]!r}?" if theme.casefold() in by_case else ""
                raise LabelDataError(
                    f"{source}, row {i + 1}: theme {theme!r} is not in the taxonomy "
                    f"({', '.join(label_space.themes)}){hint}"
                )


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
        raise LabelDataError(f"{source}: --audience-column {column!r} not found; columns are {list(frame.columns)}")
    out = []
    for i, value in enumerate(frame[column].tolist()):
        try:
            out.append(check_audience(value))
        except AudienceError as exc:
            raise LabelDataError(f"{source}, row {i + 1}, column {column!r}: {exc}") from None
    return out
