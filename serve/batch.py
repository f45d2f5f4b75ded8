"""``themesift classify``: a table in, the same rows out with themes added — streamed.

Rows are read and written chunk by chunk, so memory stays flat however long the file;
every input row comes out once, in order, with an ``error`` when it could not be
classified (empty, not text, not English, a malformed line) instead of disappearing.
The user's columns are written back unchanged (values and types); the tool's own columns
never take a name the input uses (see :mod:`themesift.serve.layouts`). Every check a user can
fail on (input and output paths, formats, flags, the text column) runs before the model loads.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from themesift.models.audience import AudienceError, check_audience
from themesift.nlp.table_writer import check_output_path
from themesift.nlp.tables import (
    TableError,
    TableWriter,
    iter_table_chunks,
    parse_error_column,
    resolve_text_column,
)
from themesift.serve.layouts import output_names, to_layout
from themesift.serve.predict import DEFAULT_MAX_CHARS, ModelLike, predict, resolve_model


@dataclass
class ClassifyOptions:
    text_column: str | None = None
    layout: str = "default"  # default | wide | long
    evidence: bool = False
    redact: bool = False
    encoding: str | None = None
    sheet: str | int | None = None
    delimiter: str | None = None
    chunk_size: int = 2000
    max_chars: int = DEFAULT_MAX_CHARS
    language_check: bool = True
    progress: bool = True
    audience: str = "auto"  # auto | employee | customer: who wrote the comments
    audience_column: str | None = None  # per-row audience (blank = auto), for mixed files


@dataclass
class ClassifySummary:
    input: str
    output: str
    rows: int = 0
    classified: int = 0
    flagged: int = 0
    with_themes: int = 0
    seconds: float = 0.0
    flags: dict = field(default_factory=dict)

    def describe(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        flags = ", ".join(f"{n} {k}" for k, n in sorted(self.flags.items(), key=lambda kv: -kv[1]))
        return (
            f"{self.rows} rows → {self.output}: {self.classified} classified ({self.with_themes} with a theme), "
            f"{self.flagged} flagged{' (' + flags + ')' if flags else ''}; {self.seconds:.1f} s, {rate:.0f} rows/s"
        )


def _estimate_rows(path: Path) -> int | None:
    """Cheap row estimate for the progress bar (newline count; parquet metadata)."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if path.suffix.lower() in (".csv", ".tsv", ".txt", ".jsonl"):
            with open(path, "rb") as fh:
                n = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
            return max(n - (path.suffix.lower() != ".jsonl"), 0)
    except OSError:
        return None
    return None


def _flag_rows(
    chunk: pd.DataFrame, texts: list, options: ClassifyOptions, audiences: list[str | None]
) -> list[str | None]:
    """Pre-model flags: malformed input lines, bad audience cells and non-English comments.

    ``audiences`` is filled in place with each row's audience (None: auto)."""
    flags: list[str | None] = [None] * len(texts)
    marker = parse_error_column(chunk)
    if marker is not None:
        for i, msg in enumerate(chunk[marker].tolist()):
            if isinstance(msg, str) and msg:
                flags[i] = f"malformed input: {msg}"
    column = options.audience_column
    for i, value in enumerate(chunk[column].tolist() if column else [options.audience] * len(texts)):
        try:
            audiences[i] = check_audience(value) or check_audience(options.audience)
        except AudienceError:
            flags[i] = flags[i] or f"bad audience: {value!r} in column {column!r} is not employee, customer or auto"
    if options.language_check:
        from themesift.nlp.language import non_english_flag

        for i, text in enumerate(texts):
            if flags[i] is None and isinstance(text, str):
                flags[i] = non_english_flag(text)
    return flags


def classify_frame(
    chunk: pd.DataFrame,
    text_column: str,
    model: ModelLike = None,
    options: ClassifyOptions | None = None,
    first_row: int = 0,
) -> pd.DataFrame:
    """Classify one DataFrame and return it in the requested layout (library entry point)."""
    return _classify_chunk(chunk, text_column, resolve_model(model), options or ClassifyOptions(), first_row)[0]


def _classify_chunk(chunk, text_column, clf, options, first_row):
    texts = chunk[text_column].tolist()
    audiences: list[str | None] = [None] * len(texts)
    flags = _flag_rows(chunk, texts, options, audiences)
    todo = [i for i, f in enumerate(flags) if f is None]
    need_evidence = options.evidence or options.layout == "long"
    results: list[dict] = [
        {"labels": [], "themes": [], "audience": audiences[i], "error": f, "warning": None} for i, f in enumerate(flags)
    ]
    for i, result in zip(
        todo,
        predict(
            [texts[i] for i in todo],
            clf,
            evidence=need_evidence,
            max_chars=options.max_chars,
            audience=[audiences[i] for i in todo],
        ),
    ):
        results[i] = result
    marker = parse_error_column(chunk)
    frame = chunk.drop(columns=[marker]) if marker is not None else chunk.copy()
    if options.redact:
        from themesift.serve.redaction import redact_results

        frame[text_column] = redact_results(texts, results)
    with_audience = clf.audience_ is not None or options.audience_column is not None or options.audience != "auto"
    out = to_layout(
        frame,
        results,
        options.layout,
        themes=clf.themes,
        evidence=options.evidence,
        first_row=first_row,
        audience=with_audience,
    )
    return out, results


def classify_file(
    input_path: str | Path, output_path: str | Path, *, model: ModelLike = None, options: ClassifyOptions | None = None
) -> ClassifySummary:
    """Stream ``input_path`` through the model into ``output_path`` (written atomically)."""
    from tqdm.auto import tqdm

    options = options or ClassifyOptions()
    if options.layout not in ("default", "wide", "long"):
        raise TableError(f"unknown layout {options.layout!r}: use default, wide or long")
    try:
        check_audience(options.audience)
    except AudienceError as exc:
        raise TableError(f"--audience: {exc}") from None
    if isinstance(options.max_chars, bool) or not isinstance(options.max_chars, int) or options.max_chars < 1:
        raise TableError(f"--max-chars must be a whole number of at least 1, got {options.max_chars!r}")
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise TableError("the output file must differ from the input file")
    check_output_path(output_path)
    started = time.time()
    chunks = iter_table_chunks(
        input_path,
        chunksize=options.chunk_size,
        encoding=options.encoding,
        sheet=options.sheet,
        delimiter=options.delimiter,
    )
    first = next(chunks)  # the header and first rows are checked before the model loads
    marker = parse_error_column(first)
    columns = [c for c in first.columns if c != marker]
    text_column = resolve_text_column(columns, options.text_column)
    if options.audience_column is not None and options.audience_column not in columns:
        raise TableError(
            f"--audience-column {options.audience_column!r} not found in {input_path}; "
            f"columns are {', '.join(map(repr, columns))}"
        )
    clf = resolve_model(model)
    summary = ClassifySummary(str(input_path), str(output_path))
    bar = tqdm(
        total=_estimate_rows(input_path),
        unit="rows",
        desc="classifying",
        disable=not options.progress,
        dynamic_ncols=True,
    )
    warning_column = output_names(columns)["warning"]
    with TableWriter(output_path, note_column=warning_column) as writer:
        for chunk in itertools.chain([first], chunks):
            out, results = _classify_chunk(chunk, text_column, clf, options, summary.rows)
            writer.write(out)
            _count(summary, results)
            bar.update(len(chunk))
    bar.close()
    summary.seconds = time.time() - started
    return summary


def _count(summary: ClassifySummary, results: list[dict]) -> None:
    for result in results:
        summary.rows += 1
        if result["error"]:
            summary.flagged += 1
            kind = result["error"].split(":")[0].split(" (")[0]
            summary.flags[kind] = summary.flags.get(kind, 0) + 1
        else:
            summary.classified += 1
            summary.with_themes += bool(result["labels"])
