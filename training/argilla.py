"""Argilla 2.x in and out: ``themesift suggest --format argilla`` and ``themesift train`` on its export.

Out: the folder ``rg.Dataset.to_disk`` writes, so ``rg.Dataset.from_disk(FOLDER)`` creates the
dataset with its settings and records in one call: ``.argilla/dataset.json`` (named after the
folder), ``.argilla/settings.json`` (a ``text`` TextField, a ``themes`` MultiLabelQuestion over
every theme:polarity, metadata ``row`` / ``uncertain_theme`` / ``uncertainty`` to sort and filter
by) and ``records.json`` (the records as ``dataset.records.to_json`` writes them, the model's
labels as each record's ``themes`` suggestion, its id a hash of the text so a later round
updates a record rather than doubling it). Nothing here imports ``argilla``.

In: the records as Argilla exports them, nested (``dataset.records.to_json(FILE)``, the
``records.json`` of ``dataset.to_disk(FOLDER)``, ``to_list()``) or flat
(``to_list(flatten=True)``, ``to_datasets()`` saved as JSON Lines or Parquet). A record's labels
are its submitted responses to the label question (``--labels-column``, else ``themes``, else
the only question answered); several annotators: a theme is kept when at least half of them
ticked it, with the polarity most of them chose. Records with no submitted response (unanswered,
drafts) and discarded ones are left out and counted. A response without its own status (the
nested export of Argilla 2.8 drops it) is taken as submitted only when the record is
``completed``; a completed record with no answer to the question is a comment with no theme
(the question is optional, so submitting nothing says "no theme").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from themesift.models.labels import POLARITIES, LabelError, format_label, parse_labels
from themesift.nlp.atomic import atomic_write_text
from themesift.nlp.cells import is_empty_cell
from themesift.training.labels_io import LabelDataError

if TYPE_CHECKING:
    from themesift.models.base import ThemeClassifier

QUESTION = "themes"  # the MultiLabelQuestion that holds theme:polarity labels
TEXT_FIELD = "text"
RECORDS_FILE = "records.json"  # rg.Dataset.to_disk's layout
SETTINGS_FILE = ".argilla/settings.json"
DATASET_FILE = ".argilla/dataset.json"
STATUSES = ("submitted", "draft", "discarded")
GUIDELINES = (
    "Tick every theme the comment raises, each with its polarity (one per theme); untick the model's "
    "suggestions that are wrong. Submit with nothing ticked when no theme applies; discard a record "
    "that cannot be labeled (not a comment, unreadable)."
)
_NOT_FIELDS = ("id", "status", "_server_id")


# ---------------------------------------------------------------- out: suggest --format argilla


def _nulls() -> dict[str, None]:
    return {"id": None, "inserted_at": None, "updated_at": None}


def argilla_settings(model: ThemeClassifier) -> dict:
    """``rg.Settings.to_json``'s shape: the comment, the label question and the metadata."""
    labels = [format_label(t, p) for t in model.themes for p in model.label_space_.polarities]
    question = {
        **_nulls(),
        "name": QUESTION,
        "settings": {
            "type": "multi_label_selection",
            "options": [{"text": lab, "value": lab} for lab in labels],
            "visible_options": None,
            "options_order": "natural",
        },
        "title": "Themes in this comment",
        "description": "theme:polarity, one polarity per theme; nothing ticked = no theme",
        "required": False,
        "dataset_id": None,
        "type": "multi_label_selection",
    }
    field = {
        **_nulls(),
        "name": TEXT_FIELD,
        "settings": {"type": "text", "use_markdown": False},
        "title": "Comment",
        "required": True,
        "description": None,
        "dataset_id": None,
        "type": "text",
    }
    return {
        "guidelines": GUIDELINES,
        "questions": [question],
        "fields": [field],
        "vectors": [],
        "metadata": [
            _metadata("row", "input row", {"min": 1, "max": None, "type": "integer"}),
            _metadata("uncertain_theme", "theme the model is unsure of", {"type": "terms", "values": model.themes}),
            _metadata("uncertainty", "1 = on the theme's threshold", {"min": 0.0, "max": 1.0, "type": "float"}),
        ],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "mapping": None,
    }


def _metadata(name: str, title: str, settings: dict) -> dict:
    return {
        **_nulls(),
        "name": name,
        "settings": {"visible_for_annotators": True, **settings},
        "title": title,
        "visible_for_annotators": True,
        "dataset_id": None,
    }


def dataset_name(folder: str | os.PathLike) -> str:
    """The folder's name in the characters dataset names safely take (letters, digits, - and _)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(folder).resolve().name).strip("-_")
    return name or "themesift-suggest"


def argilla_dataset(name: str) -> dict:
    """The dataset model ``rg.Dataset.from_disk`` reads (it sets the workspace itself)."""
    return {
        **_nulls(),
        "name": name,
        "status": "draft",
        "guidelines": GUIDELINES,
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "workspace_id": None,
        "last_activity_at": None,
    }


def record_id(text: str) -> str:
    """Stable across rounds: the same comment suggested again updates its record."""
    return "ts-" + hashlib.sha1(" ".join(text.split()).casefold().encode("utf-8")).hexdigest()[:20]


def argilla_records(table: pd.DataFrame, agent: str = "themesift") -> list[dict]:
    """``dataset.records.to_json``'s shape; the model's labels are the ``themes`` suggestion."""
    records = []
    for r in table.itertuples():
        labels = [lab for lab in r.model_labels.split("; ") if lab]
        suggestions = {QUESTION: {"value": labels, "score": None, "agent": agent}} if labels else {}
        records.append(
            {
                "id": record_id(r.text),
                "fields": {TEXT_FIELD: r.text},
                "metadata": {
                    "row": int(r.row),
                    "uncertain_theme": r.uncertain_theme,
                    "uncertainty": float(r.uncertainty),
                },
                "suggestions": suggestions,
                "responses": {},
                "vectors": {},
                "status": "pending",
                "_server_id": None,
            }
        )
    return records


def write_argilla_dataset(table: pd.DataFrame, model: ThemeClassifier, folder: str | os.PathLike) -> Path:
    """Write the ``to_disk`` folder whole or not at all (built beside it, then renamed into place)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder}: an Argilla dataset folder must be new or empty (as rg.Dataset.to_disk)")
    files = {
        DATASET_FILE: argilla_dataset(dataset_name(folder)),
        SETTINGS_FILE: argilla_settings(model),
        RECORDS_FILE: argilla_records(table),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.resolve().parent))
    try:
        for rel, content in files.items():
            atomic_write_text(tmp / rel, json.dumps(content, ensure_ascii=False, indent=1) + "\n", make_parents=True)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ---------------------------------------------------------------- in: train on an export


def records_file(path: str | os.PathLike) -> Path:
    """A ``dataset.to_disk`` folder → its ``records.json``; any other path as it is."""
    path = Path(path)
    if path.is_dir() and (path / RECORDS_FILE).is_file():
        return path / RECORDS_FILE
    return path


def is_argilla_export(frame: pd.DataFrame) -> bool:
    columns = {str(c) for c in frame.columns}
    return {"fields", "responses"} <= columns or any(c.endswith(".responses") for c in columns)


def from_argilla(
    frame: pd.DataFrame,
    source: str = "data",
    *,
    labels_column: str = "labels",
    text_column: str | None = None,
    polarities: Sequence[str] = POLARITIES,
) -> pd.DataFrame:
    """Argilla records (see the module docstring) → a table of the fields, the metadata and
    ``labels_column``; prints how many records were left out and why."""
    flat = not {"fields", "responses"} <= {str(c) for c in frame.columns}
    rows = frame.to_dict("records")
    records = [_unflatten(r, i + 1, source) for i, r in enumerate(rows)] if flat else rows
    question = _label_question(records, labels_column, source)
    text_field = text_column or (TEXT_FIELD if records and TEXT_FIELD in _fields(records[0], 1, source) else None)
    out, left = [], Counter()
    for i, record in enumerate(records, start=1):
        where = _where(source, i, record)
        fields = _fields(record, i, source)
        if text_field and text_field not in fields:
            raise LabelDataError(f"{where}: no field {text_field!r} (fields are {sorted(fields)})")
        kept, why = _submitted(record, question, where, polarities)
        if kept is None:
            left[why] += 1
            continue
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        extra = {k: v for k, v in metadata.items() if k not in fields and k != labels_column}
        out.append({**extra, **fields, labels_column: kept})
    if not out:
        raise LabelDataError(
            f"{source}: no Argilla record with a submitted response to {question!r} "
            f"({left['pending']} without one, {left['discarded']} discarded)"
        )
    _report(source, len(out), left, question)
    return pd.DataFrame(out)


def _where(source: str, i: int, record: dict) -> str:
    rid = record.get("id") if isinstance(record, dict) else None
    return f"{source}, record {i}" + (f" (id {rid!r})" if isinstance(rid, str) and rid else "")


def _fields(record: Any, i: int, source: str) -> dict:
    fields = record.get("fields") if isinstance(record, dict) else None
    if not isinstance(fields, dict) or not fields:
        raise LabelDataError(f"{_where(source, i, record if isinstance(record, dict) else {})}: no fields object")
    return fields


def _plain(value: Any) -> Any:
    """Parquet gives numpy arrays where JSON gives lists."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    return [_plain(v) for v in value] if isinstance(value, list) else value


def _unflatten(row: dict, i: int, source: str) -> dict:
    """One ``to_list(flatten=True)`` row → the nested shape (responses with their status)."""
    questions = [c[: -len(".responses")] for c in row if str(c).endswith(".responses")]
    responses = {}
    for q in questions:
        values = _plain(row.get(f"{q}.responses"))
        if not isinstance(values, list):
            if is_empty_cell(values):
                continue
            raise LabelDataError(f"{_where(source, i, row)}: {q + '.responses'!r} is not a list of responses")
        users = _plain(row.get(f"{q}.responses.users"))
        status = _plain(row.get(f"{q}.responses.status"))
        users = users if isinstance(users, list) else [None] * len(values)
        status = status if isinstance(status, list) else [None] * len(values)
        if not len(users) == len(status) == len(values):
            raise LabelDataError(
                f"{_where(source, i, row)}: {q!r} has {len(values)} responses but {len(users)} users "
                f"and {len(status)} statuses"
            )
        responses[q] = [{"value": v, "user_id": u, "status": s} for v, u, s in zip(values, users, status)]
    fields = {k: _plain(v) for k, v in row.items() if "." not in str(k) and k not in _NOT_FIELDS and not _blank(v)}
    return {"id": row.get("id"), "fields": fields, "responses": responses, "status": row.get("status")}


def _blank(value: Any) -> bool:
    return not isinstance(value, (list, dict)) and not hasattr(value, "tolist") and is_empty_cell(value)


def _label_question(records: list, labels_column: str, source: str) -> str:
    """The question the labels are in: ``--labels-column``, else ``themes``, else the only one."""
    names: dict[str, None] = {}
    for i, record in enumerate(records, start=1):
        responses = record.get("responses") if isinstance(record, dict) else None
        if responses is None or (not isinstance(responses, dict) and is_empty_cell(responses)):
            continue
        if not isinstance(responses, dict):
            raise LabelDataError(f"{_where(source, i, record)}: responses is not an object of question: [responses]")
        names.update(dict.fromkeys(map(str, responses)))
    for name in (labels_column, QUESTION):
        if name in names:
            return name
    if len(names) == 1:
        return next(iter(names))
    if not names:
        return labels_column if labels_column != "labels" else QUESTION
    raise LabelDataError(
        f"{source}: which Argilla question holds the labels? found {', '.join(map(repr, names))} "
        "(name it with --labels-column)"
    )


def _submitted(record: dict, question: str, where: str, polarities: Sequence[str]) -> tuple[list | None, str]:
    """The record's labels from its submitted responses, or None and why it is left out."""
    responses = record.get("responses") or {}
    answers = (responses.get(question) or []) if isinstance(responses, dict) else []
    if not isinstance(answers, list):
        raise LabelDataError(f"{where}: the {question!r} responses are not a list")
    completed = record.get("status") == "completed"
    submitted, discarded = [], False
    for answer in answers:
        if not isinstance(answer, dict) or "value" not in answer:
            raise LabelDataError(f"{where}: a {question!r} response without a value: {answer!r}")
        status = answer.get("status")
        if status is not None and status not in STATUSES:
            raise LabelDataError(f"{where}: response status {status!r} is not one of {', '.join(STATUSES)}")
        status = status or ("submitted" if completed else "draft")
        if status == "submitted":
            submitted.append(_labels(answer["value"], where, question, polarities))
        discarded |= status == "discarded"
    if submitted:
        return _agree(submitted), ""
    if completed and not answers:
        return [], ""  # submitted with nothing ticked: no theme
    return None, "discarded" if discarded or record.get("status") == "discarded" else "pending"


def _labels(value: Any, where: str, question: str, polarities: Sequence[str]) -> list[str]:
    value = _plain(value)
    if isinstance(value, str):
        value = [value]  # a single-label question
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LabelDataError(f"{where}: the {question!r} response {value!r} is not a list of labels")
    try:
        return parse_labels(value, polarities)
    except LabelError as exc:
        raise LabelDataError(f"{where}: bad {question!r} response {value!r}: {exc}") from None


def _agree(responses: list[list[str]]) -> list[str]:
    """Themes ticked by at least half of the responses, each with its most chosen polarity."""
    votes: dict[str, Counter] = {}
    for labels in responses:
        for label in labels:
            theme, _, polarity = label.rpartition(":") if ":" in label else (label, "", None)
            votes.setdefault(theme, Counter())[polarity] += 1
    return sorted(
        format_label(theme, count.most_common(1)[0][0])
        for theme, count in votes.items()
        if 2 * sum(count.values()) >= len(responses)
    )


def _report(source: str, kept: int, left: Counter, question: str) -> None:
    if left:
        print(
            f"{source}: {kept} Argilla records with a submitted {question!r} response; left out "
            f"{left['pending']} with none (unanswered or draft) and {left['discarded']} discarded",
            file=sys.stderr,
        )
