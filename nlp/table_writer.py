"""Writing result tables chunk by chunk, atomically and safely for spreadsheets.

Batch jobs write results as they go; a crash half-way must not leave a truncated file that
looks complete, nor clobber the previous good output. :class:`TableWriter` therefore builds
the file under a hidden temporary name beside the target through the project's one atomic
write helper (:func:`themesift.nlp.atomic.atomic_path`): published with one rename when the
``with`` block exits cleanly, removed (target untouched) on an exception, Ctrl-C or SIGTERM
(SIGTERM is turned into ``SystemExit(143)`` while a table is being written from the main
thread). Published files get the usual permissions under the user's umask. An existing
target that is read-only is refused, never silently replaced.

Formats: CSV/TSV (UTF-8, header once, CRLF row ends, so any field holding a CR or LF is
quoted and reads back as one field), JSONL (one ``json.dumps`` object per row: floats exact,
lists stay arrays, NaN/NA → null), Parquet (schema from the first chunk, nullable integers
stay integers, list columns as ``list<string>``, a column of mixed types as strings), XLSX
(openpyxl write-only, at most 1,048,575 data rows; several sheets with :func:`write_sheets`).
CSV/TSV/XLSX cells cannot hold lists, so list cells are joined with ``"; "`` and dicts (or
lists of dicts) written as JSON, see :func:`flatten_lists_for_text`.

Spreadsheet safety (OWASP "CSV injection"), one rule for every text cell and header written
to CSV, TSV or XLSX, by ``classify`` and ``report --tables`` alike (:func:`formula_safe`): a
text that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a single quote ``'`` in front,
unless it is a plain number (``-5``, ``+3.2e4``), which a spreadsheet reads as a number, not a
formula. XLSX text cells are always written as strings (never formulas or error values).
Excel also cannot hold everything: a text cell is cut at ``XLSX_MAX_CELL_CHARS`` (32,767,
Excel's limit; when a ``note_column`` is given the cut is noted in that row, never made
silently), CR and control characters are written as Excel's own ``_x000D_`` escapes (decoded
again by the reader), and integers beyond ±2^53 are written as text so they keep their value.
JSONL and Parquet are data formats: written as is.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
import re
import signal
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from themesift.nlp.atomic import atomic_path
from themesift.nlp.cells import is_missing as _is_missing
from themesift.nlp.table_readers import XLSX_ESCAPE
from themesift.nlp.tables import TableError, table_format

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header
XLSX_MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_EXACT_DOUBLE_INT = 2**53
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")  # written as Excel's _xHHHH_ escapes


def formula_safe(value: str) -> str:
    """``value`` made inert for spreadsheets: a leading ``'`` when it could start a formula."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple, set, np.ndarray))


def _to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _flatten_cell(value: object) -> object:
    if isinstance(value, dict):
        return _to_json(value)
    if _is_list(value):
        items = list(value)
        if any(isinstance(v, (dict, list, tuple)) for v in items):
            return _to_json(items)
        return "; ".join("" if v is None else str(v) for v in items)
    return value


def flatten_lists_for_text(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with list cells joined by ``"; "`` and dicts / lists of dicts as JSON."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = pd.Series([_flatten_cell(v) for v in out[col]], index=out.index, dtype=object)
    return out


def _list_like_columns(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Object columns holding lists of scalars, and those holding dicts/nested lists."""
    lists, nested = [], []
    for col in df.columns:
        if df[col].dtype != object:
            continue
        values = [v for v in df[col] if not _is_missing(v)]
        if any(
            isinstance(v, dict) or (_is_list(v) and any(isinstance(x, (dict, list, tuple)) for x in v)) for v in values
        ):
            nested.append(col)
        elif values and all(_is_list(v) for v in values):
            lists.append(col)
    return lists, nested


def check_output_path(path: str | os.PathLike, *, fmt: str | None = None) -> Path:
    """Refuse, in one line, an output the writer could not publish: call before slow work."""
    path = Path(path)
    fmt = table_format(path, fmt)
    if fmt in ("txt", "json"):
        raise TableError(f"cannot write {fmt} files ({path.name}); use .csv, .tsv, .jsonl, .parquet or .xlsx")
    directory = path.parent
    if not directory.is_dir():
        raise TableError(f"output folder does not exist: {directory}")
    if path.is_dir():
        raise TableError(f"output {path} is a folder, not a file")
    if path.exists() and not (path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
        raise TableError(f"output file {path} is read-only; make it writable or choose another name")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise TableError(f"cannot write to {directory}: permission denied")
    return path


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While writing from the main thread, SIGTERM unwinds like Ctrl-C (temp file removed)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class TableWriter:
    """Context manager that writes DataFrame chunks to ``path`` and publishes it atomically.

    ``note_column``: a column of the written frames (e.g. ``warning``) where the writer notes
    the cells it had to cut for Excel's cell limit; without it the cut is still made.
    """

    def __init__(self, path: str | os.PathLike, *, fmt: str | None = None, note_column: str | None = None) -> None:
        self.path = Path(path)
        self.fmt = table_format(self.path, fmt)
        if self.fmt in ("txt", "json"):
            raise TableError(f"cannot write {self.fmt} files; use .csv, .tsv, .jsonl, .parquet or .xlsx")
        self.note_column = note_column
        self.rows_written = 0
        self._header_done = False
        self._tmp: Path | None = None
        self._atomic: AbstractContextManager[Path] | None = None
        self._signals: AbstractContextManager[None] | None = None
        self._handle = None
        self._columns: list[str] | None = None
        self._parquet = None
        self._schema = None
        self._workbook = None
        self._sheet = None

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> TableWriter:
        check_output_path(self.path, fmt=self.fmt)
        self._signals = _sigterm_as_exit()
        self._signals.__enter__()
        self._atomic = atomic_path(self.path)
        try:
            self._tmp = self._atomic.__enter__()
        except OSError as exc:
            self._release_signals()
            raise TableError(f"cannot write to {self.path.parent}: {exc.strerror}") from None
        if self.fmt in ("csv", "tsv", "jsonl"):
            self._handle = open(self._tmp, "w", encoding="utf-8", newline="")
        elif self.fmt == "xlsx":
            from openpyxl import Workbook

            self._workbook = Workbook(write_only=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                try:
                    self._finish()
                except BaseException as finish_exc:
                    self._close_quietly()
                    self._atomic.__exit__(type(finish_exc), finish_exc, finish_exc.__traceback__)
                    raise
                self._atomic.__exit__(None, None, None)
            else:
                self._close_quietly()
                self._atomic.__exit__(exc_type, exc, tb)
        finally:
            self._close_quietly()
            self._release_signals()

    def _release_signals(self) -> None:
        if self._signals is not None:
            self._signals.__exit__(None, None, None)
            self._signals = None

    def _finish(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        if self.fmt == "parquet":
            if self._parquet is None:  # nothing written: an empty table without columns
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self._tmp)
            else:
                self._parquet.close()
        if self._workbook is not None:
            if self._sheet is None:
                self._workbook.create_sheet("results")
            self._workbook.save(self._tmp)
            self._sheet = None

    def _close_quietly(self) -> None:
        for closer in (self._handle, self._parquet):
            try:
                if closer is not None:
                    closer.close()
            except Exception:  # noqa: BLE001 - already failing or finished
                pass
        self._handle = self._parquet = None
        sheets = list(self._workbook._sheets) if self._workbook is not None else []  # noqa: SLF001
        self._sheet, self._workbook = None, None
        for sheet in sheets:  # abandoned: finish and drop openpyxl's temp files
            if not getattr(sheet, "closed", True):
                try:
                    sheet.close()
                    sheet._writer.cleanup()  # noqa: SLF001 - openpyxl offers no public discard
                except Exception:  # noqa: BLE001
                    pass

    # -- writing ----------------------------------------------------------------------------
    def start_sheet(self, name: str) -> None:
        """XLSX only: the next writes go to a new sheet ``name`` with its own header."""
        if self.fmt != "xlsx" or self._workbook is None:
            raise TableError("start_sheet() needs an .xlsx TableWriter inside its 'with' block")
        self._sheet = self._workbook.create_sheet(name)
        self._columns, self._header_done = None, False

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df``.

        Columns are put in the first chunk's order; a missing one is written empty. A column
        the first chunk lacked is a :class:`TableError`, except for JSONL (no fixed header).
        """
        if self._tmp is None:
            raise RuntimeError("TableWriter.write() called outside its 'with' block")
        df = self._align(df)
        if self.fmt in ("csv", "tsv"):
            self._write_csv(df)
        elif self.fmt == "jsonl":
            self._write_jsonl(df)
        elif self.fmt == "parquet":
            self._write_parquet(df)
        else:
            self._write_xlsx(df)
        self.rows_written += len(df)

    def _align(self, df: pd.DataFrame) -> pd.DataFrame:
        columns = [str(c) for c in df.columns]
        if self._columns is None:
            if len(set(columns)) != len(columns):
                raise TableError(f"duplicate column names in output for {self.path.name}")
            self._columns = columns
            return df.set_axis(columns, axis=1)
        extra = [c for c in columns if c not in self._columns]
        if extra and self.fmt == "jsonl":  # JSON Lines has no header: later keys are fine
            self._columns += extra
        elif extra:
            raise TableError(f"chunk has columns {extra} that the first chunk written to {self.path.name} lacked")
        return df.set_axis(columns, axis=1).reindex(columns=self._columns)

    def _write_csv(self, df: pd.DataFrame) -> None:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer, delimiter="\t" if self.fmt == "tsv" else ",", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
        )
        if not self._header_done:
            writer.writerow([formula_safe(c) for c in self._columns])
            self._header_done = True
        flat = flatten_lists_for_text(df)
        columns = [_text_column(flat[c]) for c in flat.columns]
        writer.writerows(zip(*columns)) if columns else writer.writerows([[]] * len(flat))
        self._handle.write(buffer.getvalue())

    def _write_jsonl(self, df: pd.DataFrame) -> None:
        names = list(df.columns)
        lines = []
        for row in df.itertuples(index=False, name=None):
            record = {k: _json_value(v) for k, v in zip(names, row)}
            lines.append(json.dumps(record, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n")
        self._handle.write("".join(lines))

    def _write_parquet(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        lists, nested = _list_like_columns(df)
        df = df.copy()
        for col in nested:
            df[col] = df[col].map(lambda v: None if v is None else _to_json(v))
        arrays = {}
        for col in df.columns:
            if col in lists or (self._schema is not None and pa.types.is_list(self._schema.field(col).type)):
                arrays[col] = pa.array(
                    [None if not _is_list(v) else [None if x is None else str(x) for x in v] for v in df[col]],
                    type=pa.list_(pa.string()),
                )
                continue
            try:
                arrays[col] = pa.array(df[col], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed types: as text
                arrays[col] = pa.array([None if _is_missing(v) else str(v) for v in df[col]], type=pa.string())
        table = pa.table(arrays)
        if self._schema is None:
            # all-null columns of the first chunk become strings so later chunks can fill them;
            # pandas' large_string is stored as the plain string type Parquet files usually hold
            fields = [
                pa.field(f.name, pa.string()) if pa.types.is_null(f.type) or pa.types.is_large_string(f.type) else f
                for f in table.schema
            ]
            self._schema = pa.schema(fields)
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        try:
            table = table.cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TableError(f"chunk does not match the Parquet schema of {self.path.name}: {exc}") from None
        self._parquet.write_table(table)

    def _write_xlsx(self, df: pd.DataFrame) -> None:
        from openpyxl.cell.cell import Cell

        if self.rows_written + len(df) > XLSX_MAX_DATA_ROWS:
            raise TableError(
                f"too many rows for Excel ({self.rows_written + len(df):,} > "
                f"{XLSX_MAX_DATA_ROWS:,}); write .csv, .jsonl or .parquet instead"
            )
        if self._sheet is None:
            self._sheet = self._workbook.create_sheet("results")
        sheet = self._sheet

        def text_cell(text: str) -> Cell:
            cell = Cell(sheet, row=1, column=1)  # write-only: the position is set on append
            cell.value = text
            cell.data_type = "s"  # never a formula or an error value, whatever the text
            return cell

        if not self._header_done:
            sheet.append([text_cell(_xlsx_text(str(c))[0]) for c in self._columns])
            self._header_done = True
        note_at = self._columns.index(self.note_column) if self.note_column in self._columns else None
        for row in flatten_lists_for_text(df).itertuples(index=False, name=None):
            cells, notes = [], []
            for name, value in zip(self._columns, row):
                value, note = _xlsx_value(value)
                if note:
                    notes.append(f"column {name!r}: {note}")
                cells.append(text_cell(value) if isinstance(value, str) else value)
            if notes and note_at is not None:
                old = row[note_at]
                joined = "; ".join(([old] if isinstance(old, str) and old else []) + notes)
                cells[note_at] = text_cell(_xlsx_text(joined)[0])
            sheet.append(cells)


def _text_column(series: pd.Series) -> list[object]:
    """Cells of one column for CSV/TSV: missing → empty, text formula-safe, numbers as pandas."""
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        return ["" if _is_missing(v) else formula_safe(v) if isinstance(v, str) else _csv_scalar(v) for v in series]
    if pd.api.types.is_float_dtype(series.dtype):
        return ["" if _is_missing(v) else repr(float(v)) for v in series]
    return ["" if _is_missing(v) else _csv_scalar(v) for v in series.tolist()]


def _csv_scalar(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value if isinstance(value, (int, bool)) else formula_safe(str(value))


def _json_value(value: object) -> object:
    if _is_list(value):
        return [None if _is_missing(v) else v for v in value]
    if isinstance(value, dict):
        return value
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _xlsx_text(text: str) -> tuple[str, str | None]:
    """Formula-safe, cut to Excel's cell limit (noted), CR and control characters escaped."""
    note = None
    cleaned = formula_safe(text)
    if len(cleaned) > XLSX_MAX_CELL_CHARS:
        note = f"cut from {len(cleaned):,} to {XLSX_MAX_CELL_CHARS:,} characters (Excel's cell limit)"
        cleaned = cleaned[:XLSX_MAX_CELL_CHARS]
    if "_x" in cleaned:
        cleaned = XLSX_ESCAPE.sub(lambda m: "_x005F" + m.group(0), cleaned)
    return _XML_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", cleaned), note


def _xlsx_value(value: object) -> tuple[object, str | None]:
    if _is_missing(value):
        return None, None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.tz_localize(None) if value.tzinfo else value
        return value.to_pydatetime(), None
    if isinstance(value, (bool, datetime.date, datetime.time, datetime.timedelta)):
        return value, None
    if isinstance(value, int):
        if abs(value) > _EXACT_DOUBLE_INT:  # Excel holds numbers as doubles
            return str(value), None
        return value, None
    if isinstance(value, float):
        return (value, None) if math.isfinite(value) else (str(value), None)
    return _xlsx_text(value if isinstance(value, str) else str(value))


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, fmt: str | None = None) -> None:
    """Write one DataFrame to ``path`` atomically (format from the extension or ``fmt``)."""
    with TableWriter(path, fmt=fmt) as writer:
        writer.write(df)


def write_sheets(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> None:
    """Write several DataFrames to one .xlsx atomically, one sheet each (names as given)."""
    with TableWriter(path, fmt="xlsx") as writer:
        for name, df in tables.items():
            writer.start_sheet(name)
            writer.write(df)
