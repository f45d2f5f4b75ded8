"""Reading comment tables (CSV/TSV/TXT/JSONL/JSON/Parquet/XLSX) for batch jobs.

Real exports are messy: Windows encodings, a BOM in front of the first header, semicolon
delimiters, a stray unquoted comma in a comment. Dropping such rows silently would lose
comments, so malformed CSV/JSONL lines are kept as rows and described in a ``_parse_error``
column, e.g. ``"line 17: expected 3 fields, saw 4"`` (physical line in the file, 1-based,
header included). The column exists only in frames (chunks) that contain such a row; check with
``if "_parse_error" in df``. Normal rows have None (NaN after concatenation) there.

* CSV/TSV cells stay strings: ``"NA"``/``"None"`` are text, an empty cell is ``""``. A row with
  too many fields keeps the first n-1 and joins the rest into the last column (an unquoted
  delimiter in a trailing comment column is the usual cause); a short row is padded with ``""``.
* TXT: one comment per non-blank line, in a column ``text``.
* JSONL: one object per line; keys become columns in first-seen order (a chunk has the keys
  seen so far). JSON: an array of objects, or an object holding one such array (read whole);
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
from themesift.nlp.table_readers import PARSE_ERROR, TableError, sniff_delimiter

__all__ = [  # noqa: F822 - the writer names are resolved lazily by __getattr__
    "PARSE_ERROR", "SUPPORTED", "TableError", "TableWriter", "detect_encoding",
    "flatten_lists_for_text", "iter_table_chunks", "read_table", "resolve_text_column",
    "sniff_delimiter", "table_format", "write_table",
]

SUPPORTED = (".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet", ".xlsx")
TEXT_COLUMN_NAMES = ("text", "comment", "comments", "response", "feedback", "review")
_SAMPLE_BYTES = 1 << 20
_WESTERN = {"cp1252", "latin_1", "iso8859_1", "iso8859_15"}
_FALLBACK_ERRORS = "themesift-cp1252-fallback"


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    # A file that looked like UTF-8 in its first megabyte can still hold a stray cp1252 byte
    # later on (files pasted together); decode that byte as cp1252 instead of failing.
    bad = err.object[err.start:err.end]  # type: ignore[attr-defined]
    return bad.decode("cp1252", errors="replace"), err.end  # type: ignore[attr-defined]


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def table_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format name ("csv", "tsv", ...) from ``fmt`` or the file extension."""
    ext = ("." + fmt.lower().lstrip(".")) if fmt else Path(path).suffix.lower()
    if ext not in SUPPORTED:
        shown = ext or "(none)"
        raise TableError(
            f"unsupported file type '{shown}' for {Path(path).name}; use one of "
            f"{', '.join(SUPPORTED)}"
        )
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

    BOM → ``utf-8-sig``/``utf-16``; valid UTF-8 → ``utf-8``; otherwise ``cp1252`` (which
    decodes Latin-1 text the same, bar the C1 controls) unless charset-normalizer finds
    cp1252 clearly wrong (e.g. Cyrillic cp1251 text), or a byte undefined in cp1252 forces
    ``latin-1``. When reading a detected UTF-8 file, a stray invalid byte further on is
    decoded as cp1252 instead of failing.
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
        pass
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
    enc = encoding or detect_encoding(path)
    errors = _FALLBACK_ERRORS if encoding is None and enc.startswith("utf-8") else "strict"
    try:
        return open(path, encoding=enc, errors=errors, newline="")
    except LookupError as exc:
        raise TableError(f"unknown encoding {encoding!r} for {path}") from exc


def iter_table_chunks(path: str | os.PathLike, *, chunksize: int = 5000,
                      encoding: str | None = None, sheet: str | int | None = None,
                      delimiter: str | None = None) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` as DataFrames of at most ``chunksize`` rows.

    The path and type are checked now (raising :class:`TableError`), the content while
    iterating. At least one (possibly empty) frame is yielded.
    """
    path = Path(path)
    fmt = table_format(path)
    _check_readable(path)
    if chunksize < 1:
        raise ValueError("chunksize must be >= 1")

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
                f"cannot decode {path} as {exc.encoding} at byte {exc.start}; pass the right "
                "encoding (e.g. encoding='cp1252')"
            ) from None
        except OSError as exc:
            raise TableError(f"cannot read {path}: {exc.strerror or exc}") from None

    return chunks()


def read_table(path: str | os.PathLike, *, encoding: str | None = None,
               sheet: str | int | None = None, delimiter: str | None = None) -> pd.DataFrame:
    """Read a whole table (see :func:`iter_table_chunks` for formats and error rows)."""
    frames = list(iter_table_chunks(path, chunksize=50_000, encoding=encoding, sheet=sheet,
                                    delimiter=delimiter))
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if PARSE_ERROR in df:
        errors = df.pop(PARSE_ERROR).astype(object)
        df[PARSE_ERROR] = errors.where(errors.notna(), None)
    return df


def resolve_text_column(columns: Iterable[object], requested: str | None) -> str:
    """The name of the comment column: ``requested`` if present, else the one conventional name."""
    names = [str(c) for c in columns if str(c) != PARSE_ERROR]
    listed = ", ".join(repr(c) for c in names) or "(none)"
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
        raise TableError(
            f"text column is ambiguous ({', '.join(map(repr, found))}); choose one of {listed}"
        )
    raise TableError(
        f"no text column found (looked for {', '.join(TEXT_COLUMN_NAMES)}); choose one of {listed}"
    )


def __getattr__(name: str) -> object:  # lazy re-export avoids a circular import with table_writer
    if name in ("TableWriter", "write_table", "flatten_lists_for_text"):
        from themesift.nlp import table_writer

        return getattr(table_writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
