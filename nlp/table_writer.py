"""Writing result tables chunk by chunk, atomically.

Batch jobs write results as they go; a crash half-way must not leave a truncated file that
looks complete, nor clobber the previous good output. :class:`TableWriter` therefore writes to a
hidden temporary file in the target directory (``.name.tmp-XXXX``) and ``os.replace``-s it onto
the target only when the ``with`` block exits cleanly; on an exception the temporary file is
deleted and the target is left as it was.

Formats: CSV/TSV (UTF-8, header once), JSONL (lists stay JSON arrays, NaN → null), Parquet
(schema from the first chunk, list columns as ``list<string>``), XLSX (openpyxl write-only,
at most 1,048,575 data rows). CSV/TSV/XLSX cells cannot hold lists, so list cells are joined
with ``"; "`` and dicts (or lists of dicts) written as JSON, see :func:`flatten_lists_for_text`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from themesift.nlp.tables import TableError, table_format

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


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
            out[col] = pd.Series([_flatten_cell(v) for v in out[col]], index=out.index,
                                 dtype=object)
    return out


def _list_like_columns(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Object columns holding lists of scalars, and those holding dicts/nested lists."""
    lists, nested = [], []
    for col in df.columns:
        if df[col].dtype != object:
            continue
        values = [v for v in df[col] if not _is_missing(v)]
        if any(isinstance(v, dict) or (_is_list(v) and any(isinstance(x, (dict, list, tuple))
                                                         for x in v)) for v in values):
            nested.append(col)
        elif values and all(_is_list(v) for v in values):
            lists.append(col)
    return lists, nested


class TableWriter:
    """Context manager that writes DataFrame chunks to ``path`` and publishes it atomically."""

    def __init__(self, path: str | os.PathLike, *, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.fmt = table_format(self.path, fmt)
        if self.fmt in ("txt", "json"):
            raise TableError(
                f"cannot write {self.fmt} files; use .csv, .tsv, .jsonl, .parquet or .xlsx"
            )
        self.rows_written = 0
        self._header_done = False
        self._tmp: Path | None = None
        self._handle = None
        self._columns: list[str] | None = None
        self._parquet = None
        self._schema = None
        self._workbook = None
        self._sheet = None

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> TableWriter:
        directory = self.path.parent
        if not directory.is_dir():
            raise TableError(f"output folder does not exist: {directory}")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.tmp-", dir=directory)
        except OSError as exc:
            raise TableError(f"cannot write to {directory}: {exc.strerror}") from None
        self._tmp = Path(tmp)
        if self.fmt in ("csv", "tsv", "jsonl"):
            self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        else:
            os.close(fd)
            if self.fmt == "xlsx":
                from openpyxl import Workbook

                self._workbook = Workbook(write_only=True)
                self._sheet = self._workbook.create_sheet("results")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._finish()
                os.replace(self._tmp, self.path)
        finally:
            self._close_quietly()
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()

    def _finish(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self.fmt == "parquet":
            if self._parquet is None:  # nothing written: an empty table without columns
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self._tmp)
            else:
                self._parquet.close()
        if self._workbook is not None:
            self._workbook.save(self._tmp)

    def _close_quietly(self) -> None:
        for closer in (self._handle, self._parquet):
            try:
                if closer is not None:
                    closer.close()
            except Exception:  # noqa: BLE001 - already failing or finished
                pass
        self._handle = self._parquet = None
        sheet, self._sheet, self._workbook = self._sheet, None, None
        if sheet is not None and not sheet.closed:  # abandoned: finish and drop openpyxl's temp
            try:
                sheet.close()
                sheet._writer.cleanup()  # noqa: SLF001 - openpyxl offers no public discard
            except Exception:  # noqa: BLE001
                pass

    # -- writing ----------------------------------------------------------------------------
    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df``.

        Columns are put in the first chunk's order; a missing one is written empty. A column
        the first chunk lacked is a :class:`TableError`, except for JSONL (no fixed header).
        """
        if self._tmp is None:
            raise RuntimeError("TableWriter.write() called outside its 'with' block")
        df = self._align(df)
        if self.fmt in ("csv", "tsv"):
            flatten_lists_for_text(df).to_csv(
                self._handle, sep="\t" if self.fmt == "tsv" else ",", index=False,
                header=not self._header_done,
                lineterminator="\n",
            )
            self._header_done = True
        elif self.fmt == "jsonl":
            if len(df):
                text = df.to_json(orient="records", lines=True, force_ascii=False,
                                  date_format="iso", default_handler=str)
                self._handle.write(text if text.endswith("\n") else text + "\n")
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
            raise TableError(
                f"chunk has columns {extra} that the first chunk written to {self.path.name} lacked"
            )
        return df.set_axis(columns, axis=1).reindex(columns=self._columns)

    def _write_parquet(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        lists, nested = _list_like_columns(df)
        df = df.copy()
        for col in nested:
            df[col] = df[col].map(lambda v: None if v is None else _to_json(v))
        arrays = {}
        for col in df.columns:
            if col in lists or (self._schema is not None
                                and pa.types.is_list(self._schema.field(col).type)):
                arrays[col] = pa.array(
                    [None if not _is_list(v) else [None if x is None else str(x) for x in v]
                     for v in df[col]], type=pa.list_(pa.string()))
            else:
                arrays[col] = pa.array(df[col], from_pandas=True)
        table = pa.table(arrays)
        if self._schema is None:
            # all-null columns of the first chunk become strings so later chunks can fill them
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                      for f in table.schema]
            self._schema = pa.schema(fields)
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        try:
            table = table.cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TableError(
                f"chunk does not match the Parquet schema of {self.path.name}: {exc}"
            ) from None
        self._parquet.write_table(table)

    def _write_xlsx(self, df: pd.DataFrame) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if self.rows_written + len(df) > XLSX_MAX_DATA_ROWS:
            raise TableError(
                f"too many rows for Excel ({self.rows_written + len(df):,} > "
                f"{XLSX_MAX_DATA_ROWS:,}); write .csv, .jsonl or .parquet instead"
            )
        if not self._header_done:
            self._sheet.append(self._columns)
            self._header_done = True

        def cell(value: object) -> object:
            if _is_missing(value):
                return None
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, pd.Timestamp):
                value = value.tz_localize(None) if value.tzinfo else value
                return value.to_pydatetime()
            if isinstance(value, str):
                return ILLEGAL_CHARACTERS_RE.sub("", value)
            return value if isinstance(value, (int, float, bool)) else str(value)

        for row in flatten_lists_for_text(df).itertuples(index=False, name=None):
            self._sheet.append([cell(v) for v in row])


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, fmt: str | None = None) -> None:
    """Write one DataFrame to ``path`` atomically (format from the extension or ``fmt``)."""
    with TableWriter(path, fmt=fmt) as writer:
        writer.write(df)
