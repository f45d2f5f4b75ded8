"""Format-specific chunk readers behind :mod:`themesift.nlp.tables` (see there for behaviour).

Text formats receive an open text handle (encoding already chosen by ``tables``); Parquet and
XLSX receive the path. Each reader yields DataFrames of at most ``chunksize`` rows and always
at least one (possibly empty) frame.

Row problems go into one marker column, ``_parse_error`` (``themesift__parse_error`` when the
file has its own ``_parse_error`` column: see :func:`tool_column`); :func:`parse_error_column`
says which column of a frame is the marker. Text decoded with ``errors="surrogateescape"``
(bytes that are not valid in the file's encoding) and lone UTF-16 surrogates from JSON escapes
(``"\\ud83d"``) are repaired per cell: escaped bytes decoded as cp1252, other surrogates as
U+FFFD, and the row flagged, so one bad row never stops the file.

Excel limits, checked on the zip's directory before openpyxl reads anything (a zip bomb is
refused in milliseconds), and then on the sheet XML as it is streamed:
``XLSX_MAX_PART_BYTES`` (1 GiB decompressed per part), ``XLSX_MAX_RATIO`` (200:1 for parts
over 16 MiB) and ``XLSX_MAX_TEXT_BYTES`` (4 MiB of text in one cell, far above Excel's own
32,767-character cell limit). Exceeding one is a one-line :class:`TableError` naming the file.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

PARSE_ERROR = "_parse_error"
PARSE_ERROR_ATTR = "themesift_parse_error_column"  # DataFrame.attrs key naming the marker column
TOOL_PREFIX = "themesift_"
XLSX_MAX_PART_BYTES = 1 << 30
XLSX_MAX_RATIO = 200
XLSX_RATIO_MIN_BYTES = 16 << 20
XLSX_MAX_TEXT_BYTES = 4 << 20
_DELIMITERS = (",", ";", "\t", "|")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
XLSX_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")  # OOXML's escape for characters XML cannot hold

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class TableError(ValueError):
    """A problem with an input/output table, phrased for the user in one line."""


def tool_column(name: str, taken: Iterable[object]) -> str:
    """The name for one of themesift's own columns given the user's column names ``taken``.

    The one rule for every column the tool adds (``themes``, ``error``, ``score``, ``audience``,
    the parse-error marker...): its plain name when free, else ``themesift_<name>``, else
    ``themesift_<name>_2``, ... A user's column is never dropped, renamed or overwritten.
    """
    used = {str(c) for c in taken}
    if name not in used:
        return name
    label, k = TOOL_PREFIX + name, 1
    while label in used:
        k += 1
        label = f"{TOOL_PREFIX}{name}_{k}"
    return label


def parse_error_column(df: pd.DataFrame) -> str | None:
    """Name of the reader's parse-error marker column in ``df``, or None when it has none."""
    name = df.attrs.get(PARSE_ERROR_ATTR)
    return name if name is not None and name in df.columns else None


def repair_text(value: str) -> tuple[str, str | None]:
    """``value`` with undecodable bytes and lone surrogates repaired, and what was wrong."""
    if not _SURROGATE.search(value):
        return value, None
    problem = (
        "bytes not valid in the file's encoding (decoded as cp1252)"
        if _ESCAPED_BYTES.search(value)
        else "a lone UTF-16 surrogate (replaced by U+FFFD)"
    )
    fixed = _ESCAPED_BYTES.sub(
        lambda m: bytes(ord(c) - 0xDC00 for c in m.group()).decode("cp1252", errors="replace"), value
    )
    return _SURROGATE.sub("\ufffd", fixed), problem


def _repair_cells(cells: list, columns: Sequence[str]) -> tuple[list, str | None]:
    problems = []
    for i, cell in enumerate(cells):
        if isinstance(cell, str):
            cells[i], problem = repair_text(cell)
            if problem:
                problems.append(f"column {columns[i] if i < len(columns) else i + 1!r}: {problem}")
    return cells, "; ".join(problems) or None


def _repair_value(value: object) -> tuple[object, bool]:
    """JSON values with lone surrogates repaired (recursively); True when something was."""
    if isinstance(value, str):
        fixed, problem = repair_text(value)
        return fixed, problem is not None
    if isinstance(value, list):
        pairs = [_repair_value(v) for v in value]
        return [v for v, _ in pairs], any(bad for _, bad in pairs)
    if isinstance(value, dict):
        pairs = {repair_text(k)[0]: _repair_value(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(bad for _, bad in pairs.values()) or any(
            _SURROGATE.search(k) for k in value
        )
    return value, False


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


def _typed(values: list) -> pd.Series:
    """A column of JSON/Excel values with the narrowest dtype that keeps every value exactly.

    Integers with blanks become nullable ``Int64`` (never float: ``1001`` stays ``1001`` and ids
    above 2^53 keep their value), booleans with blanks ``boolean``; anything mixed stays object.
    """
    present = [v for v in values if v is not None]
    if present and len(present) < len(values):
        if all(isinstance(v, bool) for v in present):
            return pd.Series(values, dtype="boolean")
        if all(isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 for v in present):
            return pd.Series(values, dtype="Int64")
    series = pd.Series(values, dtype=object)
    if len(present) == len(values) and not any(
        isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63 for v in present
    ):
        series = series.infer_objects()
    return series


def _frame(rows: list, columns: list[str], errors: list[str | None]) -> pd.DataFrame:
    if rows and isinstance(rows[0], dict):
        # JSON records: keep values as read; a key missing from a record is None.
        df = pd.DataFrame({c: _typed([r.get(c) for r in rows]) for c in columns}, columns=columns)
    else:
        df = pd.DataFrame(rows, columns=columns)
    return _with_errors(df, errors)


def _with_errors(df: pd.DataFrame, errors: list[str | None]) -> pd.DataFrame:
    if any(e is not None for e in errors):
        name = tool_column(PARSE_ERROR, df.columns)
        df[name] = pd.Series(errors, dtype=object, index=df.index)
        df.attrs[PARSE_ERROR_ATTR] = name
    return df


def csv_chunks(handle: TextIO, path: Path, delimiter: str | None, chunksize: int) -> Iterator[pd.DataFrame]:
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
    header = [repair_text(h)[0] for h in header]
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
            row = row[: n - 1] + [delimiter.join(row[n - 1 :])] if len(row) > n else (row + [""] * (n - len(row)))
        row, problem = _repair_cells(row, columns)
        if problem:
            error = error or f"line {first}: {problem}"
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
    errors: list[str | None] = []
    yielded = False
    for line_no, line in enumerate(handle, start=1):
        text = line.rstrip("\r\n").lstrip("\ufeff")
        if text.strip():
            text, problem = repair_text(text)
            rows.append(text)
            errors.append(f"line {line_no}: {problem}" if problem else None)
        if len(rows) >= chunksize:
            yield _with_errors(pd.DataFrame({"text": rows}), errors)
            rows, errors, yielded = [], [], True
    if rows or not yielded:
        yield _with_errors(pd.DataFrame({"text": rows}), errors)


def _checked_record(value: object, where: str) -> tuple[dict, str | None]:
    if not isinstance(value, dict):
        return {}, f"{where}: not a JSON object ({type(value).__name__})"
    record, bad = _repair_value(value)
    return record, (f"{where}: text holds a lone UTF-16 surrogate or undecodable bytes (replaced)" if bad else None)


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
        except RecursionError:
            yield {}, f"line {line_no}: invalid JSON: nested too deeply"
            continue
        yield _checked_record(value, f"line {line_no}")


def _json_document(handle: TextIO) -> list[tuple[dict, str | None]] | None:
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
    return [_checked_record(v, f"item {i}") for i, v in enumerate(data)]


def _all_keys(records: Iterable[tuple[dict, str | None]]) -> list[str]:
    keys: dict[str, None] = {}
    for record, _ in records:
        keys.update(dict.fromkeys(record))
    return list(keys)


def json_chunks(handle: TextIO, whole_document: bool, chunksize: int) -> Iterator[pd.DataFrame]:
    """JSON Lines, or (``whole_document``) a JSON array of objects with a JSON Lines fallback.

    Every chunk has every key of the file, in first-seen order: JSON Lines are read twice,
    first for the keys only, so an optional key that first appears late is a column from the
    first chunk on (blank before it) and the header written by a streaming writer is complete.
    """
    records = _json_document(handle) if whole_document else None
    if records is None:
        handle.seek(0)
        columns = _all_keys(_jsonl_records(handle))
        handle.seek(0)
        records = _jsonl_records(handle)
    else:
        columns = _all_keys(records)
    rows: list[dict] = []
    errors: list[str | None] = []
    yielded = False
    for record, error in records:
        rows.append(record)
        errors.append(error)
        if len(rows) >= chunksize:
            yield _frame(rows, columns, errors)
            rows, errors, yielded = [], [], True
    if rows or not yielded:
        yield _frame(rows, columns, errors)


def _arrow_types(arrow_type: object) -> object:
    """pandas dtypes that keep Parquet integers and booleans exact when they hold nulls."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(str(arrow_type).replace("int", "Int").replace("uInt", "UInt"))
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def _parquet_frame(batch: object) -> pd.DataFrame:
    """A record batch as pandas; integer/boolean columns with nulls as Int64/boolean, not float."""
    df = batch.to_pandas()  # type: ignore[attr-defined]
    for i, column in enumerate(batch.columns):  # type: ignore[attr-defined]
        if column.null_count and _arrow_types(column.type) is not None:
            df.isetitem(i, pd.Series(column.to_pandas(types_mapper=_arrow_types), index=df.index))
    return df


def parquet_chunks(path: Path, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows == 0:
            yield pf.schema_arrow.empty_table().to_pandas()
            return
        for batch in pf.iter_batches(batch_size=chunksize):
            yield _parquet_frame(batch)
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot read Parquet file {path}: {exc}") from None


def check_xlsx_limits(path: Path) -> None:
    """Refuse an .xlsx whose parts decompress past the limits (see the module docstring).

    Sizes come from the zip directory (Python's zipfile never inflates past a part's declared
    size), then the sheet and shared-string XML is streamed once, in constant memory, to find
    the longest text run between two tags: an upper bound on the largest cell openpyxl builds.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            for info in infos:
                if info.file_size > XLSX_MAX_PART_BYTES:
                    raise TableError(
                        f"cannot read Excel file {path}: part {info.filename} decompresses to "
                        f"{info.file_size:,} bytes (limit {XLSX_MAX_PART_BYTES:,})"
                    )
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > XLSX_RATIO_MIN_BYTES and ratio > XLSX_MAX_RATIO:
                    raise TableError(
                        f"cannot read Excel file {path}: part {info.filename} is compressed "
                        f"{ratio:,.0f}:1 (limit {XLSX_MAX_RATIO}:1), a zip bomb?"
                    )
            for info in infos:
                name = info.filename
                if name.endswith(".xml") and (name.startswith("xl/worksheets/") or "sharedStrings" in name):
                    _check_text_runs(zf, info, path)
    except TableError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise TableError(f"cannot read Excel file {path}: {_describe(exc)}") from None


def _check_text_runs(zf: object, info: object, path: Path) -> None:
    run = 0
    with zf.open(info) as part:  # type: ignore[attr-defined]
        while block := part.read(1 << 20):
            start = 0
            while True:
                lt = block.find(b"<", start)
                if lt < 0:
                    run += len(block) - start
                    break
                run += lt - start
                if run > XLSX_MAX_TEXT_BYTES:
                    break
                gt = block.find(b">", lt)
                run, start = 0, (gt + 1 if gt >= 0 else len(block))
                if gt < 0:
                    break
            if run > XLSX_MAX_TEXT_BYTES:
                raise TableError(
                    f"cannot read Excel file {path}: a cell in {info.filename} holds more than "  # type: ignore[attr-defined]
                    f"{XLSX_MAX_TEXT_BYTES:,} bytes of text (limit; Excel itself stops at "
                    "32,767 characters)"
                )


def _pick_sheet(wb: object, path: Path, sheet: str | int | None) -> object:
    sheets = wb.worksheets  # type: ignore[attr-defined]
    if not sheets:
        raise TableError(f"cannot read Excel file {path}: it has no worksheets")
    names = wb.sheetnames  # type: ignore[attr-defined]
    if sheet is None:
        return sheets[0]
    if isinstance(sheet, str) and sheet not in names and sheet.strip().lstrip("-").isdigit():
        sheet = int(sheet)  # --sheet 1 is an index unless a sheet is named "1"
    if isinstance(sheet, int):
        if not 0 <= sheet < len(sheets):
            raise TableError(
                f"{path} has {len(sheets)} sheet(s) ({', '.join(names)}); no sheet index {sheet} "
                "(--sheet counts from 0)"
            )
        return sheets[sheet]
    if sheet in names:
        return wb[sheet]  # type: ignore[index]
    raise TableError(f"no sheet {sheet!r} in {path}; sheets: {', '.join(names)}")


def xlsx_chunks(path: Path, sheet: str | int | None, chunksize: int) -> Iterator[pd.DataFrame]:
    """Rows of one sheet, streamed; corrupt parts become a one-line :class:`TableError`."""
    import openpyxl

    check_xlsx_limits(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except TableError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on a corrupt part
        raise TableError(f"cannot read Excel file {path}: {_describe(exc)}") from None
    try:
        ws = _pick_sheet(wb, path, sheet)
        yield from _sheet_frames(ws, path, chunksize)
    except TableError:
        raise
    except Exception as exc:  # noqa: BLE001 - ParseError, IndexError, zlib.error, ValueError...
        raise TableError(f"cannot read Excel file {path}: corrupt sheet data ({_describe(exc)})") from None
    finally:
        wb.close()


def _unescape(value: object) -> object:
    """Excel's ``_x000D_``-style escapes decoded (``_x005F_`` is a literal underscore)."""
    if isinstance(value, str) and "_x" in value:
        return XLSX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _sheet_frames(ws: object, path: Path, chunksize: int) -> Iterator[pd.DataFrame]:
    rows_iter = ws.iter_rows(values_only=True)  # type: ignore[attr-defined]
    header = next(rows_iter, None)
    if header is None:
        raise TableError(f"{path} sheet {ws.title!r} is empty (no header row)")  # type: ignore[attr-defined]
    n = len(header)
    while n and header[n - 1] is None:  # trailing unnamed columns of an unused range
        n -= 1
    columns = _unique_columns(header[:n])

    def frame(rows: list[tuple]) -> pd.DataFrame:
        return pd.DataFrame(
            {c: _typed([_unescape(r[i]) for r in rows]) for i, c in enumerate(columns)}, columns=columns
        )

    rows: list[tuple] = []
    for values in rows_iter:
        values = tuple(values[:n]) + (None,) * (n - len(values))
        if all(v is None for v in values):
            continue
        rows.append(values)
        if len(rows) >= chunksize:
            yield frame(rows)
            rows = []
    yield frame(rows)
