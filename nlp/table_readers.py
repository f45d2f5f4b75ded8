"""Format-specific chunk readers behind :mod:`themesift.nlp.tables` (see there for behaviour).

Text formats receive an open text handle (encoding already chosen by ``tables``); Parquet and
XLSX receive the path. Each reader yields DataFrames of at most ``chunksize`` rows and always
at least one (possibly empty) frame.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

PARSE_ERROR = "_parse_error"
_DELIMITERS = (",", ";", "\t", "|")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class TableError(ValueError):
    """A problem with an input/output table, phrased for the user in one line."""


def sniff_delimiter(sample: str) -> str | None:
    """The delimiter among ``, ; tab |`` for which most rows have as many fields as the header.

    None when no candidate splits the header: a single-column file, whose commas are text.
    """
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = None, (0.0, 0)
    for delim in _DELIMITERS:
        rows = [row for row in csv.reader(lines[:200], delimiter=delim) if row]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        score = (sum(len(r) == width for r in body) / len(body), width)
        if score > best_score:
            best, best_score = delim, score
    return best


class _Lines:
    """Physical lines for csv.reader, remembering those of the record being parsed so that a
    malformed record can be reported by line number and its later lines parsed again."""

    def __init__(self, handle: Iterable[str]) -> None:
        self._it = iter(handle)
        self.pending: deque[str] = deque()
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self._it)
        self.taken.append(line)
        return line


def _unique_columns(names: Sequence[object]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        base = str(name).strip() if name is not None and str(name).strip() else f"Unnamed: {i}"
        label, k = base, 0
        while label in out:
            k += 1
            label = f"{base}.{k}"
        out.append(label)
    return out


def _frame(rows: list, columns: list[str], errors: list[str | None]) -> pd.DataFrame:
    if rows and isinstance(rows[0], dict):
        # JSON records: keep values as read; a key missing from a record is None, and only
        # complete columns get a specific dtype (so integer ids do not turn into floats).
        df = pd.DataFrame([[r.get(c) for c in columns] for r in rows], columns=columns,
                          dtype=object)
        for c in columns:
            if df[c].notna().all():
                df[c] = df[c].infer_objects()
    else:
        df = pd.DataFrame(rows, columns=columns)
    if any(e is not None for e in errors):
        df[PARSE_ERROR] = pd.Series(errors, dtype=object)
    return df


def csv_chunks(handle: TextIO, path: Path, delimiter: str | None,
               chunksize: int) -> Iterator[pd.DataFrame]:
    """CSV/TSV rows as strings; malformed records kept and flagged in ``_parse_error``."""
    if delimiter is None:
        # a single-column file gets a delimiter that cannot occur, so commas stay text
        delimiter = sniff_delimiter(handle.read(65536)) or "\x1f"
        handle.seek(0)
    lines = _Lines(handle)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise TableError(f"{path} is empty (no header row)") from None
    except csv.Error as exc:
        raise TableError(f"{path}: cannot parse the header row: {exc}") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    columns, n = _unique_columns(header), len(header)
    line_no = len(lines.taken)
    rows: list[list[str]] = []
    errors: list[str | None] = []
    yielded = False
    while True:
        lines.taken = []
        first = line_no + 1
        try:
            row = next(reader)
            error = None
            line_no += len(lines.taken)
        except StopIteration:
            break
        except csv.Error as exc:  # bad quoting: report the first line, re-read the rest
            bad = lines.taken
            lines.pending.extendleft(reversed(bad[1:]))
            row = next(csv.reader([bad[0].rstrip("\r\n")], delimiter=delimiter), [])
            error = f"line {first}: bad quoting ({exc})"
            line_no = first
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
        if not row or (len(row) == 1 and not row[0] and n > 1):
            continue  # blank line
        if len(row) != n:
            error = error or f"line {first}: expected {n} fields, saw {len(row)}"
            row = row[: n - 1] + [delimiter.join(row[n - 1:])] if len(row) > n else (
                row + [""] * (n - len(row)))
        rows.append(row)
        errors.append(error)
        if len(rows) >= chunksize:
            yield _frame(rows, columns, errors)
            rows, errors, yielded = [], [], True
    if rows or not yielded:
        yield _frame(rows, columns, errors)


def txt_chunks(handle: TextIO, chunksize: int) -> Iterator[pd.DataFrame]:
    """One comment per non-blank line, in a column ``text``."""
    rows: list[str] = []
    yielded = False
    for line in handle:
        text = line.rstrip("\r\n").lstrip("\ufeff")
        if text.strip():
            rows.append(text)
        if len(rows) >= chunksize:
            yield pd.DataFrame({"text": rows})
            rows, yielded = [], True
    if rows or not yielded:
        yield pd.DataFrame({"text": rows})


def _jsonl_records(lines: Iterable[str]) -> Iterator[tuple[dict, str | None]]:
    for line_no, line in enumerate(lines, start=1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield {}, f"line {line_no}: invalid JSON: {exc.msg} (column {exc.colno})"
            continue
        if isinstance(value, dict):
            yield value, None
        else:
            yield {}, f"line {line_no}: not a JSON object ({type(value).__name__})"


def _json_document(handle: TextIO) -> Iterator[tuple[dict, str | None]] | None:
    """Records of a whole-file JSON document (array, or object holding one array), else None."""
    try:
        data = json.loads(handle.read().lstrip("\ufeff"))
    except json.JSONDecodeError:
        return None  # probably JSON Lines saved as .json
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 and len(data) == 1 else [data]
    if not isinstance(data, list):
        data = [data]
    return (
        (v, None) if isinstance(v, dict)
        else ({}, f"item {i}: not a JSON object ({type(v).__name__})")
        for i, v in enumerate(data)
    )


def json_chunks(handle: TextIO, whole_document: bool, chunksize: int) -> Iterator[pd.DataFrame]:
    """JSON Lines, or (``whole_document``) a JSON array of objects with a JSON Lines fallback."""
    records = _json_document(handle) if whole_document else None
    if records is None:
        handle.seek(0)
        records = _jsonl_records(handle)
    columns: dict[str, None] = {}
    rows: list[dict] = []
    errors: list[str | None] = []
    yielded = False
    for record, error in records:
        columns.update(dict.fromkeys(record))
        rows.append(record)
        errors.append(error)
        if len(rows) >= chunksize:
            yield _frame(rows, list(columns), errors)
            rows, errors, yielded = [], [], True
    if rows or not yielded:
        yield _frame(rows, list(columns), errors)


def parquet_chunks(path: Path, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows == 0:
            yield pf.schema_arrow.empty_table().to_pandas()
            return
        for batch in pf.iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot read Parquet file {path}: {exc}") from None


def xlsx_chunks(path: Path, sheet: str | int | None, chunksize: int) -> Iterator[pd.DataFrame]:
    from zipfile import BadZipFile

    import openpyxl

    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise TableError(f"cannot read Excel file {path}: {exc}") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(wb.worksheets):
                raise TableError(f"{path} has {len(wb.worksheets)} sheet(s); no sheet {sheet}")
            ws = wb.worksheets[sheet]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise TableError(f"no sheet {sheet!r} in {path}; sheets: {', '.join(wb.sheetnames)}")
        rows_iter = ws.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            raise TableError(f"{path} sheet {ws.title!r} is empty (no header row)")
        n = len(header)
        while n and header[n - 1] is None:  # trailing unnamed columns of an unused range
            n -= 1
        columns = _unique_columns(header[:n])
        rows: list[tuple] = []
        for values in rows_iter:
            values = tuple(values[:n]) + (None,) * (n - len(values))
            if all(v is None for v in values):
                continue
            rows.append(values)
            if len(rows) >= chunksize:
                yield pd.DataFrame(rows, columns=columns)
                rows = []
        yield pd.DataFrame(rows, columns=columns)
    finally:
        wb.close()


