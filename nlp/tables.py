"""Reading comment tables (CSV/TSV/TXT/JSONL/JSON/Parquet/XLSX) for batch jobs.

Real exports are messy: Windows encodings, a BOM in front of the first header, semicolon
delimiters, a stray unquoted comma in a comment. Dropping such rows silently would lose
comments, so malformed CSV/JSONL lines are kept as rows and described in a ``_parse_error``
column, e.g. ``"line 17: expected 3 fields, saw 4"`` (physical line in the file, 1-based,
header included). The column exists only in frames (chunks) that contain such a row; find it
with :func:`parse_error_column` (it is ``themesift__parse_error`` when the file has its own
``_parse_error`` column, which is then kept as data). Normal rows have None there.

Decoding errors are per row, never per file: a file that is mostly UTF-8 is read as UTF-8,
and a row holding bytes that are not valid in the file's encoding (a cp1252 line pasted into
a UTF-8 export) has those bytes decoded as cp1252 and is flagged in the marker column; the
other rows are untouched. The same holds with an explicit ``encoding``.

* CSV/TSV cells stay strings: ``"NA"``/``"None"`` are text, an empty cell is ``""``. A row with
  too many fields keeps the first n-1 and joins the rest into the last column (an unquoted
  delimiter in a trailing comment column is the usual cause); a short row is padded with ``""``.
* Parquet, Excel and JSON keep their types, exactly: an integer column with blanks is nullable
  ``Int64`` (never float, so ``1001`` stays ``1001`` and ids above 2^53 keep their value),
  booleans with blanks ``boolean``. Excel's ``_x000D_``-style escapes are decoded.
* TXT: one comment per non-blank line, in a column ``text``.
* JSONL: one object per line; keys become columns in first-seen order; every chunk has every
  key of the file (a key first seen late is blank before it). A lone surrogate escape
  (``"\\ud83d"``) is replaced by U+FFFD and the row flagged.
  JSON: an array of objects, or an object holding one such array (read whole);
  a .json file that is not one JSON document is read as JSON Lines.
* :func:`iter_table_chunks` streams CSV/TSV/TXT/JSONL/Parquet with constant memory, and XLSX
  through openpyxl's read-only mode.

Writing lives in :mod:`themesift.nlp.table_writer`; ``TableWriter``, ``write_table`` and
``flatten_lists_for_text`` are importable from here too.
"""

from __future__ import annotations

import codecs
import difflib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import pandas as pd

from themesift.nlp import table_readers as readers
from themesift.nlp.table_readers import (
    PARSE_ERROR,
    PARSE_ERROR_ATTR,
    TableError,
    parse_error_column,
    sniff_delimiter,
    tool_column,
)

__all__ = [  # noqa: F822 - the writer names are resolved lazily by __getattr__
    "PARSE_ERROR",
    "SUPPORTED",
    "TableError",
    "TableWriter",
    "detect_encoding",
    "flatten_lists_for_text",
    "iter_table_chunks",
    "parse_error_column",
    "read_table",
    "resolve_text_column",
    "sniff_delimiter",
    "table_format",
    "tool_column",
    "write_table",
]

SUPPORTED = (".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet", ".xlsx")
# The one list of conventional comment-column names (classify, train, evaluate, report), with the
# plurals exports use ("Reviews", "Responses"); matched case-insensitively.
TEXT_COLUMN_NAMES = (
    "text",
    "texts",
    "comment",
    "comments",
    "response",
    "responses",
    "feedback",
    "feedbacks",
    "review",
    "reviews",
)
_SAMPLE_BYTES = 1 << 20
_WESTERN = {"cp1252", "latin_1", "iso8859_1", "iso8859_15"}


def _mostly_utf8(sample: bytes) -> bool:
    """True when a sample with invalid UTF-8 still holds more valid multi-byte UTF-8 characters
    than invalid bytes: a UTF-8 file with a few pasted cp1252 rows (legacy single-byte text
    almost never forms valid UTF-8 sequences by chance)."""
    text = sample.decode("utf-8", errors="surrogateescape")
    bad = sum(1 for c in text if "\udc80" <= c <= "\udcff")
    good = sum(1 for c in text if c > "\x7f" and not "\ud800" <= c <= "\udfff")
    return good > 0 and good >= bad


def table_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format name ("csv", "tsv", ...) from ``fmt`` or the file extension."""
    ext = ("." + fmt.lower().lstrip(".")) if fmt else Path(path).suffix.lower()
    if ext not in SUPPORTED:
        shown = ext or "(none)"
        raise TableError(f"unsupported file type '{shown}' for {Path(path).name}; use one of {', '.join(SUPPORTED)}")
    return ext[1:]


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise TableError(f"file not found: {path}")
    if not path.is_file():
        raise TableError(f"not a file: {path}")
    if not os.access(path, os.R_OK):
        raise TableError(f"cannot read {path}: permission denied")


def detect_encoding(path: str | os.PathLike) -> str:
    """Encoding of a text file, judged from its first megabyte.

    BOM → ``utf-8-sig``/``utf-16``; valid UTF-8, or mostly UTF-8 with a few invalid bytes
    (those rows are flagged when read) → ``utf-8``; otherwise ``cp1252`` (which decodes
    Latin-1 text the same, bar the C1 controls) unless charset-normalizer finds cp1252 clearly
    wrong (e.g. Cyrillic cp1251 text), or a byte undefined in cp1252 forces ``latin-1``.
    """
    path = Path(path)
    _check_readable(path)
    with open(path, "rb") as f:
        sample = f.read(_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < _SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        if _mostly_utf8(sample):
            return "utf-8"
    from charset_normalizer import from_bytes

    # On a short sample charset-normalizer cannot tell single-byte code pages apart (cp1252
    # text scores as cp775 or cp1250), so cp1252, by far the most common legacy encoding of
    # English text, wins unless it is clearly messier than the best guess (e.g. Cyrillic).
    matches = list(from_bytes(sample))
    best = matches[0] if matches else None
    cp1252 = next((m for m in matches if _WESTERN & set(m.could_be_from_charset)), None)
    if best is not None and (cp1252 is None or cp1252.chaos > best.chaos + 0.1):
        return codecs.lookup(best.encoding).name
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _open_text(path: Path, encoding: str | None) -> TextIO:
    # surrogateescape keeps undecodable bytes as U+DC80-U+DCFF; the readers repair and flag
    # them per row (table_readers.repair_text) instead of refusing the whole file.
    enc = encoding or detect_encoding(path)
    try:
        return open(path, encoding=enc, errors="surrogateescape", newline="")
    except LookupError:
        raise TableError(f"unknown encoding {encoding!r} for {path} (--encoding)") from None


def iter_table_chunks(
    path: str | os.PathLike,
    *,
    chunksize: int = 5000,
    encoding: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` as DataFrames of at most ``chunksize`` rows.

    The path and type are checked now (raising :class:`TableError`), the content while
    iterating. At least one (possibly empty) frame is yielded.
    """
    path = Path(path)
    fmt = table_format(path)
    _check_readable(path)
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise TableError(f"chunk size must be a whole number of at least 1, got {chunksize!r} (--chunk-size)")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"'):
        raise TableError(
            f"delimiter must be one character other than a quote or line break, got {delimiter!r} (--delimiter)"
        )
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise TableError(f"unknown encoding {encoding!r} (--encoding)") from None

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            if fmt == "parquet":
                yield from readers.parquet_chunks(path, chunksize)
            elif fmt == "xlsx":
                yield from readers.xlsx_chunks(path, sheet, chunksize)
            else:
                with _open_text(path, encoding) as handle:
                    if fmt in ("csv", "tsv"):
                        delim = "\t" if fmt == "tsv" and delimiter is None else delimiter
                        yield from readers.csv_chunks(handle, path, delim, chunksize)
                    elif fmt == "txt":
                        yield from readers.txt_chunks(handle, chunksize)
                    else:
                        yield from readers.json_chunks(handle, fmt == "json", chunksize)
        except UnicodeDecodeError as exc:
            raise TableError(
                f"cannot decode {path} as {exc.encoding} at byte {exc.start}; pass the file's "
                "encoding with --encoding, or leave it out to detect it"
            ) from None
        except UnicodeError as exc:  # e.g. utf-16 asked for a file without a BOM
            raise TableError(
                f"cannot decode {path} as {encoding or 'detected encoding'}: {exc}; pass the file's "
                "encoding with --encoding, or leave it out to detect it"
            ) from None
        except OSError as exc:
            raise TableError(f"cannot read {path}: {exc.strerror or exc}") from None

    return chunks()


def read_table(
    path: str | os.PathLike,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a whole table (see :func:`iter_table_chunks` for formats and error rows)."""
    frames = list(iter_table_chunks(path, chunksize=50_000, encoding=encoding, sheet=sheet, delimiter=delimiter))
    marker = next((m for m in map(parse_error_column, frames) if m is not None), None)
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if marker is not None:
        errors = df.pop(marker).astype(object)
        df[marker] = errors.where(errors.notna(), None)
        df.attrs[PARSE_ERROR_ATTR] = marker
    return df


_MARKERS = (PARSE_ERROR, tool_column(PARSE_ERROR, [PARSE_ERROR]))


def resolve_text_column(columns: Iterable[object], requested: str | None) -> str:
    """The name of the comment column: ``requested`` if present, else the one conventional name."""
    names = [str(c) for c in columns if str(c) not in _MARKERS]
    listed = ", ".join(repr(c) for c in names) or "(none)"  # quotes kept whole (B3)
    if requested is not None:
        if requested in names:
            return requested
        folded = [c for c in names if c.casefold() == requested.casefold()]
        if len(folded) == 1:
            return folded[0]
        close = difflib.get_close_matches(requested, names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TableError(f"no column {requested!r}; columns are {listed}{hint}")
    found = [c for c in names if c.strip().casefold() in TEXT_COLUMN_NAMES]
    if len(found) == 1:
        return found[0]
    if found:
        raise TableError(f"text column is ambiguous ({', '.join(map(repr, found))}); choose one of {listed}")
    raise TableError(f"no text column found (looked for {', '.join(TEXT_COLUMN_NAMES)}); choose one of {listed}")


def __getattr__(name: str) -> object:  # lazy re-export avoids a circular import with table_writer
    if name in ("TableWriter", "write_table", "flatten_lists_for_text"):
        from themesift.nlp import table_writer

        return getattr(table_writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
