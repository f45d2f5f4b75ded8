"""Property: ``classify`` gives back the input's rows in order and the user's columns unchanged.

For generated tables (odd column names, the tool's own column names among them, integers with
blanks, integers above 2^53, floats, booleans, text with CR/LF, quotes, delimiters, formula
starts and unicode; CRLF and LF files, with and without a BOM) in CSV, TSV, JSONL, Parquet and
Excel, the real reader → real tfidf model → real writer path of ``classify_file`` must keep every
user cell: exactly for JSONL and Parquet (values and types), and for CSV/TSV/XLSX exactly after
the one documented spreadsheet rule (``formula_safe``; Excel: an empty text is an empty cell,
integers beyond 2^53 are text, numbers keep openpyxl's 16 significant digits). Examples are
derandomized and not shrunk, so the test takes a bounded time; a failure prints its table.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from themesift.nlp.table_writer import formula_safe
from themesift.nlp.tables import read_table
from themesift.serve.batch import ClassifyOptions, classify_file

NAMES = [
    "id",
    "score",
    "theme",
    "themes",
    "scores",
    "row",
    "error",
    "warning",
    "polarity",
    "evidence",
    "audience",
    "_parse_error",
    "themesift_error",
    "=cmd",
    "@at",
    "-minus",
    "+plus",
    "naïve – col",
    "a,b;c",
    'say "hi"',
    "Ünïcødé 名前",
]
SPECIAL = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-5",
    "-2+3",
    "@SUM(A1)",
    "\tlead",
    "a\rb",
    "a\r\nb",
    "\n",
    'q"uote',
    "x,y;z|w",
    "café – naïve €",
    "😀 emoji",
    "  padded  ",
    "",
    "NA",
    "None",
    "null",
    "0012",
]
_TEXT_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x1F64F) | st.sampled_from(
    list("\r\n\t\"',;|=+-@'")
)
TEXT = st.one_of(st.sampled_from(SPECIAL), st.text(_TEXT_CHARS, max_size=30))
BIG = st.integers(2**53 + 1, 2**63 - 1) | st.integers(-(2**63), -(2**53) - 1)
INT = st.integers(-(2**31), 2**31)
FLOAT = st.floats(-1e300, 1e300, allow_nan=False, width=64)  # openpyxl's 16 digits overflow near the max
KINDS = ("text", "int", "big", "float", "bool")
FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")


@pytest.fixture(scope="module")
def model(tfidf_model_dir):
    from themesift.serve.predict import load_model

    return load_model(tfidf_model_dir)


@st.composite
def tables(draw, fmt: str):
    n_rows = draw(st.integers(1, 7))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    kinds = (
        ["text"] * len(names)
        if fmt in ("csv", "tsv")
        else [draw(st.sampled_from([k for k in KINDS if fmt != "xlsx" or k != "big"])) for _ in names]
    )  # Excel: doubles
    columns: dict[str, list] = {}
    comment = st.text(_TEXT_CHARS, min_size=1, max_size=40) if fmt == "xlsx" else TEXT
    position = draw(st.integers(0, len(names)))
    for i, (name, kind) in enumerate(zip(names, kinds)):
        if i == position:
            columns["comment"] = draw(st.lists(comment, min_size=n_rows, max_size=n_rows))
        value = {"text": TEXT, "int": INT, "big": BIG, "float": FLOAT, "bool": st.booleans()}[kind]
        if fmt not in ("csv", "tsv"):
            value = st.none() | value
        columns[name] = draw(st.lists(value, min_size=n_rows, max_size=n_rows))
    if "comment" not in columns:
        columns["comment"] = draw(st.lists(comment, min_size=n_rows, max_size=n_rows))
    if fmt == "xlsx":  # Excel-written files hold CR as _x000D_, tested elsewhere; openpyxl cannot write a raw CR
        columns = {k: [v.replace("\r", "") if isinstance(v, str) else v for v in vs] for k, vs in columns.items()}
    return columns, dict(zip(names, kinds)), draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans())


def _write_input(
    path: Path, fmt: str, columns: dict[str, list], kinds: dict[str, str], newline: str, bom: bool
) -> None:
    names = list(columns)
    rows = list(zip(*columns.values()))
    if fmt in ("csv", "tsv"):
        with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            writer = csv.writer(
                fh, delimiter="\t" if fmt == "tsv" else ",", lineterminator=newline, quoting=csv.QUOTE_ALL
            )
            writer.writerow(names)
            writer.writerows(rows)
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            for i, row in enumerate(rows):  # with a BOM flag: None as a missing key (optional keys, in any row
                # but the first) and ASCII escapes
                record = {k: v for k, v in zip(names, row) if v is not None or not bom or i == 0}
                fh.write(json.dumps(record, ensure_ascii=bom) + newline)
    elif fmt == "parquet":
        types = {"text": pa.string(), "int": pa.int64(), "big": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
        pq.write_table(pa.table({k: pa.array(v, types[kinds.get(k, "text")]) for k, v in columns.items()}), path)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        for r, row in enumerate([names, *rows], start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # a text cell, as Excel writes a typed-in comment
        wb.save(path)


def _expected(fmt: str, value: object) -> object:
    if fmt in ("csv", "tsv"):
        return formula_safe(value)
    if fmt == "xlsx":
        if isinstance(value, str):
            return formula_safe(value) or None
        if isinstance(value, float):  # openpyxl writes numbers with 16 significant digits
            return float(f"{value:.16g}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return str(value)
    return value


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _cells(df: pd.DataFrame, name: str) -> list:
    return [
        None
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
        else (v.item() if hasattr(v, "item") else v)
        for v in df[name].astype(object)
    ]


def _check(fmt: str, columns: dict[str, list], kinds: dict[str, str], newline: str, bom: bool, model) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / f"in.{fmt}", Path(tmp) / f"out.{fmt}"
        _write_input(src, fmt, columns, kinds, newline, bom)
        options = ClassifyOptions(
            text_column="comment",
            progress=False,
            language_check=False,
            chunk_size=3,
            delimiter="," if fmt == "csv" else None,
        )
        summary = classify_file(src, out, model=model, options=options)
        n = len(columns["comment"])
        assert summary.rows == n
        got = read_table(out)
        names = list(columns)
        shown = [formula_safe(c) for c in names] if fmt in ("csv", "tsv", "xlsx") else names
        assert list(got.columns[: len(names)]) == shown  # the user's columns first, in order, names kept
        assert len(got) == n
        for name, label in zip(names, shown):
            expected = [_expected(fmt, v) for v in columns[name]]
            actual = _cells(got, label)
            assert all(_same(a, e) for a, e in zip(actual, expected)), (name, actual, expected)
        if fmt in ("csv", "tsv"):  # an independent reader sees the same rows
            back = pd.read_csv(out, sep="\t" if fmt == "tsv" else ",", dtype=str, keep_default_na=False)
            assert len(back) == n and back.iloc[:, : len(names)].values.tolist() == [
                [formula_safe(v) for v in row] for row in zip(*columns.values())
            ]
        if fmt == "parquet":  # the input's Arrow types are kept
            assert pq.read_schema(out).types[: len(names)] == pq.read_schema(src).types


@pytest.mark.parametrize("fmt", FORMATS)
def test_classify_keeps_rows_and_user_columns(fmt: str, model) -> None:
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(tables(fmt))
    def run(table) -> None:
        _check(fmt, *table, model)

    run()
