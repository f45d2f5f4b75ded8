"""Reading and writing comment tables with real files in tmp_path."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from themesift.nlp import table_writer
from themesift.nlp.tables import (
    TableError,
    TableWriter,
    detect_encoding,
    flatten_lists_for_text,
    iter_table_chunks,
    parse_error_column,
    read_table,
    resolve_text_column,
    write_table,
)

FIXTURES = Path(__file__).parent / "fixtures"

SAMPLE = pd.DataFrame(
    {
        "id": ["1", "2", "3", "4"],
        "comment": ['Pay is "ok", hours long', "NA", "café – naïve €5\nsecond line", ""],
        "team": ["Sales", "None", "R&D; Ops", "IT"],
    }
)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".jsonl", ".parquet", ".xlsx"])
def test_round_trip_keeps_rows_columns_and_order(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"comments{ext}"
    with TableWriter(path) as writer:
        writer.write(SAMPLE.iloc[:3])
        writer.write(SAMPLE.iloc[3:])
    assert writer.rows_written == 4
    back = read_table(path)
    assert list(back.columns) == ["id", "comment", "team"]
    if ext == ".xlsx":  # Excel stores an empty string as an empty cell
        back = back.fillna("")
    assert back.astype(str).values.tolist() == SAMPLE.values.tolist()
    assert _files(tmp_path) == [path.name]


def test_csv_values_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,score,text\n007,NA,None\n8,,null\n", encoding="utf-8")
    df = read_table(path)
    assert df.values.tolist() == [["007", "NA", "None"], ["8", "", "null"]]
    assert "_parse_error" not in df


def test_txt_is_one_comment_per_line(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("Good pay, bad hours\n\n  \nNice team\n", encoding="utf-8")
    assert read_table(path)["text"].tolist() == ["Good pay, bad hours", "Nice team"]


def test_json_array_and_object_wrapper(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]))
    (tmp_path / "b.json").write_text(json.dumps({"rows": [{"text": "x"}]}))
    assert read_table(tmp_path / "a.json").to_dict("records") == [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]
    assert read_table(tmp_path / "b.json")["text"].tolist() == ["x"]


# --- encodings and delimiters --------------------------------------------------------------


def test_cp1252_semicolon_fixture() -> None:
    path = FIXTURES / "tables_cp1252_semicolon.csv"
    assert detect_encoding(path) == "cp1252"
    df = read_table(path)
    assert list(df.columns) == ["ID", "Comment", "Score"]
    assert df["Comment"].tolist() == ["Café staff are naïve – but friendly", 'Bonus was €500, "fair" I guess', "NA"]


def test_cp1252_file_written_here(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes("id,text\n1,café – naïve\n2,costs € 5 “quoted”\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    assert read_table(path)["text"].tolist() == ["café – naïve", "costs € 5 “quoted”"]


def test_latin1_file_and_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes('id,text\n1,"Große Firma, naïve Chefs"\n'.encode("latin-1"))
    assert read_table(path)["text"].tolist() == ["Große Firma, naïve Chefs"]
    assert read_table(path, encoding="latin-1")["text"].tolist() == ["Große Firma, naïve Chefs"]
    forced = read_table(path, encoding="utf-8")  # wrong encoding: rows flagged, not refused
    assert forced["text"].tolist() == ["Große Firma, naïve Chefs"]
    assert "line 2: column 'text': bytes not valid" in forced["_parse_error"][0]


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,text\n1,héllo\n".encode())
    assert detect_encoding(path) == "utf-8-sig"
    df = read_table(path)
    assert list(df.columns) == ["id", "text"]
    assert df["text"].tolist() == ["héllo"]


@pytest.mark.parametrize("delim", [";", "\t", "|", ","])
def test_delimiter_sniffed_for_csv(tmp_path: Path, delim: str) -> None:
    path = tmp_path / "d.csv"
    rows = [["id", "text", "score"], ["1", "good, really; good", "5"], ["2", "bad", "1"]]
    path.write_text(
        "\n".join(delim.join(f'"{c}"' if (delim in c or "," in c) else c for c in r) for r in rows) + "\n",
        encoding="utf-8",
    )
    df = read_table(path)
    assert df.values.tolist() == rows[1:]
    assert list(df.columns) == rows[0]


def test_single_column_csv_keeps_commas(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("comment\nGood pay, bad hours, ok team\nFine\n", encoding="utf-8")
    df = read_table(path)
    assert df["comment"].tolist() == ["Good pay, bad hours, ok team", "Fine"]
    assert "_parse_error" not in df


# --- malformed input -------------------------------------------------------------------------


def test_malformed_csv_lines_are_kept_and_flagged(tmp_path: Path) -> None:
    lines = ["id,team,text"]
    lines += [f"{i},t{i},comment {i}" for i in range(1, 13)]  # file lines 2-13
    lines += ['13,t13,"a quoted', 'multi-line comment"']  # lines 14-15, one record
    lines += ["14,t14,fine", "15,t15,ok"]  # lines 16-17
    lines += ["16,t16,pay is low, hours long"]  # line 18: one delimiter too many
    lines += ["17,t17"]  # line 19: one field short
    lines += ['18,t18,"bad"quote']  # line 20: bad quoting
    lines += ["19,t19,last"]  # line 21
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = read_table(path)
    assert df["id"].tolist() == [str(i) for i in range(1, 20)]  # no row lost
    errors = {i: e for i, e in zip(df["id"], df["_parse_error"]) if e}
    assert errors == {
        "16": "line 18: expected 3 fields, saw 4",
        "17": "line 19: expected 3 fields, saw 2",
        "18": "line 20: bad quoting (',' expected after '\"')",
    }
    row = df.set_index("id")
    assert row.loc["16", "text"] == "pay is low, hours long"
    assert row.loc["17", "text"] == ""
    assert row.loc["13", "text"] == "a quoted\nmulti-line comment"
    assert df["_parse_error"].iloc[0] is None


def test_unterminated_quote_does_not_swallow_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('id,text\n1,"never closed\n2,fine\n3,also fine\n', encoding="utf-8")
    df = read_table(path)
    assert df["id"].tolist() == ["1", "2", "3"]
    assert df["_parse_error"].tolist() == ["line 2: bad quoting (unexpected end of data)", None, None]


def test_malformed_jsonl_lines_are_kept_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n\n{"id": 3, "text": \n'
        '["not", "an", "object"]\n{"id": 5, "text": "e", "extra": [1, 2]}\n',
        encoding="utf-8",
    )
    df = read_table(path)
    assert list(df.columns) == ["id", "text", "extra", "_parse_error"]
    assert len(df) == 5
    assert df["_parse_error"].tolist()[2].startswith("line 4: invalid JSON: ")
    assert df["_parse_error"].tolist()[3] == "line 5: not a JSON object (list)"
    assert df["id"].tolist()[:2] == [1, 2] and df["extra"].iloc[4] == [1, 2]


# --- errors ------------------------------------------------------------------------------------


def test_unknown_extension_message(tmp_path: Path) -> None:
    path = tmp_path / "x.doc"
    path.write_text("hi")
    with pytest.raises(TableError) as info:
        read_table(path)
    assert str(info.value) == (
        "unsupported file type '.doc' for x.doc; use one of .csv, .tsv, .txt, .jsonl, .json, .parquet, .xlsx"
    )


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="file not found: .*nope.csv"):
        iter_table_chunks(tmp_path / "nope.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(TableError, match="bad.parquet"):
        read_table(tmp_path / "bad.parquet")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(TableError, match="bad.xlsx"):
        read_table(tmp_path / "bad.xlsx")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(TableError, match="empty"):
        read_table(tmp_path / "empty.csv")


def test_resolve_text_column() -> None:
    assert resolve_text_column(["id", "Comment", "score"], None) == "Comment"
    assert resolve_text_column(["id", "answer"], "answer") == "answer"
    assert resolve_text_column(["id", "Answer"], "answer") == "Answer"
    with pytest.raises(TableError) as info:
        resolve_text_column(["id", "feedback_text", "score"], "feedbak_text")
    msg = str(info.value)
    assert "'id', 'feedback_text', 'score'" in msg and "did you mean 'feedback_text'" in msg
    with pytest.raises(TableError, match="ambiguous.*'text'.*'review'"):
        resolve_text_column(["text", "review", "id"], None)
    with pytest.raises(TableError, match="no text column found.*'id', 'answer'"):
        resolve_text_column(["id", "answer", "_parse_error"], None)


def test_excel_sheets(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Intro"
    wb.active.append(["note"])
    ws = wb.create_sheet("Data")
    ws.append(["id", "text", None])
    ws.append([1, "hello", None])
    ws.append([None, None, None])
    ws.append([2, "world", None])
    wb.save(tmp_path / "x.xlsx")
    assert read_table(tmp_path / "x.xlsx", sheet="Data").values.tolist() == [[1, "hello"], [2, "world"]]
    assert list(read_table(tmp_path / "x.xlsx", sheet=1).columns) == ["id", "text"]
    assert list(read_table(tmp_path / "x.xlsx").columns) == ["note"]
    with pytest.raises(TableError, match="no sheet 'Nope'.*Intro, Data"):
        read_table(tmp_path / "x.xlsx", sheet="Nope")


# --- writing -----------------------------------------------------------------------------------


def test_failed_write_leaves_no_output_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), TableWriter(path) as writer:
        writer.write(SAMPLE)
        raise RuntimeError("boom")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_failed_write_keeps_existing_target(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"out{ext}"
    write_table(SAMPLE.iloc[:1], path)
    before = path.read_bytes()
    with pytest.raises(ValueError), TableWriter(path) as writer:
        writer.write(SAMPLE)
        raise ValueError("half-way failure")
    assert path.read_bytes() == before
    assert _files(tmp_path) == [path.name]


def test_lists_flattened_for_text_formats_and_kept_elsewhere(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [1, 2], "themes": [["pay", "culture"], []], "evidence": [[{"start": 0, "end": 3}], None]})
    flat = flatten_lists_for_text(df)
    assert flat["themes"].tolist() == ["pay; culture", ""]
    assert flat["evidence"].tolist() == ['[{"start": 0, "end": 3}]', None]
    write_table(df, tmp_path / "o.csv")
    assert read_table(tmp_path / "o.csv")["themes"].tolist() == ["pay; culture", ""]
    write_table(df, tmp_path / "o.jsonl")
    first = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert first == {"id": 1, "themes": ["pay", "culture"], "evidence": [{"start": 0, "end": 3}]}
    write_table(df, tmp_path / "o.parquet")
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.schema.field("themes").type == pa.list_(pa.string())
    assert table.column("themes").to_pylist() == [["pay", "culture"], []]


def test_parquet_schema_from_first_chunk(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    with TableWriter(path) as writer:
        writer.write(pd.DataFrame({"id": [1], "note": [None], "score": [0.5]}))
        writer.write(pd.DataFrame({"id": [2], "note": ["later text"]}))  # score missing → null
    assert pq.read_table(path).to_pylist() == [
        {"id": 1, "note": None, "score": 0.5},
        {"id": 2, "note": "later text", "score": None},
    ]
    with pytest.raises(TableError, match="columns \\['surprise'\\]"), TableWriter(tmp_path / "q.parquet") as writer:
        writer.write(pd.DataFrame({"id": [1]}))
        writer.write(pd.DataFrame({"id": [2], "surprise": ["x"]}))
    assert not (tmp_path / "q.parquet").exists()


def test_later_columns_allowed_in_jsonl_only(tmp_path: Path) -> None:
    with TableWriter(tmp_path / "o.jsonl") as writer:
        writer.write(pd.DataFrame({"id": [1], "text": ["a"]}))
        writer.write(pd.DataFrame({"text": ["b"], "id": [2], "new": ["x"]}))
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == [{"id": 1, "text": "a"}, {"id": 2, "text": "b", "new": "x"}]
    with pytest.raises(TableError, match="columns \\['new'\\]"), TableWriter(tmp_path / "o.csv") as writer:
        writer.write(pd.DataFrame({"id": [1]}))
        writer.write(pd.DataFrame({"id": [2], "new": ["x"]}))
    assert not (tmp_path / "o.csv").exists()


def test_xlsx_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_writer, "XLSX_MAX_DATA_ROWS", 5)
    with pytest.raises(TableError, match="too many rows for Excel"), TableWriter(tmp_path / "big.xlsx") as writer:
        writer.write(pd.DataFrame({"x": range(4)}))
        writer.write(pd.DataFrame({"x": range(2)}))
    assert _files(tmp_path) == []


def test_cannot_write_unsupported(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="unsupported file type '.doc'"):
        TableWriter(tmp_path / "x.doc")
    with pytest.raises(TableError, match="output folder does not exist"), TableWriter(tmp_path / "missing" / "x.csv"):
        pass


# --- chunking ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rows = [f'{i},"comment number {i}, with a comma",{i % 5}' for i in range(20_000)]
    path.write_text("id,text,score\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_chunked_csv_equals_whole_read(big_csv: Path) -> None:
    chunks = list(iter_table_chunks(big_csv, chunksize=3000))
    assert [len(c) for c in chunks] == [3000] * 6 + [2000]
    assert all(list(c.columns) == ["id", "text", "score"] for c in chunks)
    whole = read_table(big_csv)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    assert whole["id"].tolist() == [str(i) for i in range(20_000)]


def _peak_bytes_while_streaming(path: Path) -> int:
    tracemalloc.start()
    # encoding given, so the fixed 1 MB encoding-detection sample does not mask the streaming
    rows = sum(len(c) for c in iter_table_chunks(path, chunksize=500, encoding="utf-8"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows > 0
    return peak


@pytest.mark.parametrize("ext", [".csv", ".jsonl"])  # tracemalloc cannot see Arrow's memory
def test_chunked_reading_uses_constant_memory(tmp_path: Path, ext: str) -> None:
    peaks, sizes = [], []
    for n in (4_000, 16_000):
        df = pd.DataFrame({"id": range(n), "text": [f"comment {i} " + "x" * 80 for i in range(n)]})
        path = tmp_path / f"m{n}{ext}"
        write_table(df, path)
        sizes.append(path.stat().st_size)
        peaks.append(_peak_bytes_while_streaming(path))
    # 4x the rows, about the same peak
    assert peaks[1] < 1.25 * peaks[0] + 200_000, (peaks, sizes)
    assert peaks[1] < sizes[1] / 3, (peaks, sizes)


def test_parquet_is_read_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "b.parquet"
    df = pd.DataFrame({"id": range(2500), "text": [f"c{i}" for i in range(2500)]})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=1000)
    chunks = list(iter_table_chunks(path, chunksize=400))
    assert max(len(c) for c in chunks) <= 400 and len(chunks) >= 7
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), df)


# --- issue #20: hostile input and spreadsheet safety ------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".xlsx"])
def test_formula_like_text_is_written_inert(tmp_path: Path, ext: str) -> None:
    from openpyxl import load_workbook

    from themesift.nlp.table_writer import formula_safe

    df = pd.DataFrame({"=cmd": FORMULAS + ["-5", "3.5e2", "plain"]})
    path = tmp_path / f"out{ext}"
    write_table(df, path)
    expected = ["'" + f for f in FORMULAS] + ["-5", "3.5e2", "plain"]  # plain numbers stay numbers
    assert [formula_safe(v) for v in df["=cmd"]] == expected
    if ext == ".xlsx":
        cells = [c for row in load_workbook(path)["results"].iter_rows() for c in row]
        assert all(c.data_type == "s" for c in cells)  # never a formula
    back = read_table(path)
    assert list(back.columns) == ["'=cmd"] and back["'=cmd"].tolist() == expected


def test_carriage_return_inside_a_field_is_quoted(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": ["1", "2", "3"], "comment": ["First\rsecond", "a\r\nb", "trailing\r"]})
    write_table(df, tmp_path / "cr.csv")
    back = pd.read_csv(tmp_path / "cr.csv", dtype=str, keep_default_na=False)  # an independent reader
    assert back.values.tolist() == df.values.tolist()
    assert read_table(tmp_path / "cr.csv").values.tolist() == df.values.tolist()


def test_integer_ids_with_blanks_keep_type_and_value(tmp_path: Path) -> None:
    ids = [9007199254740993, 9007199254740995, None, 123]
    pq.write_table(
        pa.table({"employee_id": pa.array(ids, pa.int64()), "comment": list("abcd")}), tmp_path / "ids.parquet"
    )
    wb = Workbook()
    wb.active.append(["employee_id", "comment"])
    for i, c in zip([1001, 1002, None, 1004], "abcd"):
        wb.active.append([i, c])
    wb.save(tmp_path / "ids.xlsx")
    df = read_table(tmp_path / "ids.parquet")
    assert str(df["employee_id"].dtype) == "Int64" and df["employee_id"].tolist()[:2] == ids[:2]
    assert str(read_table(tmp_path / "ids.xlsx")["employee_id"].dtype) == "Int64"
    write_table(df, tmp_path / "out.parquet")
    assert pq.read_schema(tmp_path / "out.parquet").field("employee_id").type == pa.int64()
    assert pq.read_table(tmp_path / "out.parquet")["employee_id"].to_pylist() == ids
    write_table(read_table(tmp_path / "ids.xlsx"), tmp_path / "x.csv")
    write_table(df, tmp_path / "p.csv")
    assert read_table(tmp_path / "x.csv")["employee_id"].tolist() == ["1001", "1002", "", "1004"]
    assert read_table(tmp_path / "p.csv")["employee_id"].tolist() == ["9007199254740993", "9007199254740995", "", "123"]
    write_table(df, tmp_path / "out.xlsx")  # Excel holds doubles: ids above 2^53 go as text
    assert read_table(tmp_path / "out.xlsx")["employee_id"].tolist()[:2] == [str(i) for i in ids[:2]]


def test_user_column_named_parse_error_is_data(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,comment,_parse_error\n1,Pay is bad,imported ok\n2,Good,team,extra\n", encoding="utf-8")
    df = read_table(path)
    assert df["_parse_error"].tolist() == ["imported ok", "team,extra"]  # the user's column, kept
    marker = parse_error_column(df)
    assert marker == "themesift__parse_error"
    assert df[marker].tolist()[0] is None and "line 3: expected 3 fields" in df[marker][1]


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_a_few_cp1252_bytes_in_utf8_are_flagged_per_row(tmp_path: Path, encoding: str | None) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"id,comment\n1,Caf\xc3\xa9 is great\n2,Caf\xe9 \x93quoted\x94 pay is bad\n"
        b"3,Na\xc3\xafve r\xc3\xa9sum\xc3\xa9\n"
    )
    assert detect_encoding(path) == "utf-8"
    df = read_table(path, encoding=encoding)
    assert df["comment"].tolist() == ["Café is great", "Café “quoted” pay is bad", "Naïve résumé"]
    flags = df[parse_error_column(df)].tolist()
    assert flags[0] is None and flags[2] is None
    assert flags[1].startswith("line 3: column 'comment': bytes not valid")


def test_jsonl_lone_surrogate_row_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"id":1,"comment":"Pay is bad"}\n{"id":2,"comment":"Manager \\ud83d great"}\n{"id":3,"comment":"ok"}\n',
        encoding="utf-8",
    )
    df = read_table(path)
    assert df["id"].tolist() == [1, 2, 3]
    assert df["comment"].tolist() == ["Pay is bad", "Manager \ufffd great", "ok"]
    flags = df[parse_error_column(df)].tolist()
    assert flags[0] is None and flags[2] is None and "line 2" in flags[1] and "surrogate" in flags[1]
    write_table(df, tmp_path / "out.csv")  # encodable: the job can write it


def test_jsonl_key_that_appears_late_is_in_every_chunk(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    rows = [{"id": i, "comment": "Pay is bad"} | ({"nps": 3} if i == 2100 else {}) for i in range(2500)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    chunks = list(iter_table_chunks(path, chunksize=2000))
    assert [list(c.columns) for c in chunks] == [["id", "comment", "nps"]] * 2
    with TableWriter(tmp_path / "late.csv") as writer:
        for chunk in chunks:
            writer.write(chunk)
    assert read_table(tmp_path / "late.csv")["nps"].tolist()[2099:2102] == ["", "3", ""]


def _xlsx_with_sheet(path: Path, sheet_xml_parts: list[bytes]) -> Path:
    import zipfile

    good = path.with_name("good.xlsx")
    wb = Workbook()
    wb.active.append(["comment"])
    wb.active.append(["Pay is bad"])
    wb.save(good)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with zout.open(item.filename, "w", force_zip64=True) as fh:
                    for part in sheet_xml_parts:
                        fh.write(part)
            else:
                zout.writestr(item, zin.read(item.filename))
    return path


_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>comment</t></is>'
    b'</c></row><row r="2"><c r="A2" t="inlineStr"><is><t>'
)
_TAIL = b"</t></is></c></row></sheetData></worksheet>"


def test_xlsx_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    from themesift.nlp import table_readers

    bomb = _xlsx_with_sheet(tmp_path / "bomb.xlsx", [_HEAD] + [b"A" * (1 << 20)] * 40 + [_TAIL])
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(TableError, match=r"bomb.xlsx: part xl/worksheets/sheet1.xml is compressed .*\(limit 200:1\)"):
        read_table(bomb)
    assert tracemalloc.get_traced_memory()[1] < 20 << 20  # refused from the zip directory
    tracemalloc.stop()
    assert table_readers.XLSX_MAX_RATIO == 200 and table_readers.XLSX_MAX_PART_BYTES == 1 << 30


def test_xlsx_cell_over_the_text_limit_is_refused(tmp_path: Path) -> None:
    big = _xlsx_with_sheet(tmp_path / "cell.xlsx", [_HEAD, b"A" * (5 << 20), _TAIL])  # 5 MiB, below the ratio floor
    with pytest.raises(TableError, match=r"cell.xlsx: a cell in xl/worksheets/sheet1.xml holds more than 4,194,304"):
        read_table(big)
    ok = _xlsx_with_sheet(tmp_path / "ok.xlsx", [_HEAD, b"B" * 100_000, _TAIL])
    assert read_table(ok)["comment"].tolist() == ["B" * 100_000]


def _mutated_xlsx(tmp_path: Path, name: str, mutate) -> Path:
    import zipfile

    good = tmp_path / "good.xlsx"
    wb = Workbook()
    wb.active.append(["id", "comment"])
    for i in range(1, 30):
        wb.active.append([i, f"My manager always makes time for me {i}."])
    wb.save(good)
    out = tmp_path / name
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = mutate(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
    return out


S1 = "xl/worksheets/sheet1.xml"


@pytest.mark.parametrize(
    "name, mutate",
    [
        ("truncated_xml.xlsx", lambda n, d: d[: len(d) // 2] if n == S1 else d),
        ("missing_sheet.xlsx", lambda n, d: None if n == S1 else d),
        (
            "bad_shared_string.xlsx",
            lambda n, d: (
                d.replace(b'<c r="A2" t="n">', b'<c r="A2" t="s">', 1).replace(b"<v>1</v>", b"<v>999</v>", 1)
                if n == S1
                else d
            ),
        ),
        ("bad_number.xlsx", lambda n, d: d.replace(b"<v>2</v>", b"<v>abc</v>", 1) if n == S1 else d),
    ],
)
def test_corrupt_xlsx_is_one_line_error(tmp_path: Path, name: str, mutate) -> None:
    path = _mutated_xlsx(tmp_path, name, mutate)
    with pytest.raises(TableError) as info:
        read_table(path)
    assert f"cannot read Excel file {path}" in str(info.value) and "\n" not in str(info.value)


def test_xlsx_with_a_crc_error_is_one_line_error(tmp_path: Path) -> None:
    import zipfile

    path = _mutated_xlsx(tmp_path, "crc.xlsx", lambda n, d: d)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(S1)
    data = bytearray(path.read_bytes())
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(100, 160):
        data[offset + k] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(TableError, match="cannot read Excel file .*crc.xlsx") as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_sheet_given_as_a_string_index(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Readme"
    wb.active.append(["notes"])
    data = wb.create_sheet("Data")
    data.append(["comment"])
    data.append(["Pay is bad"])
    wb.save(tmp_path / "multi.xlsx")
    assert read_table(tmp_path / "multi.xlsx", sheet="1")["comment"].tolist() == ["Pay is bad"]
    with pytest.raises(TableError, match="no sheet index 5 .*counts from 0"):
        read_table(tmp_path / "multi.xlsx", sheet="5")
    wb.create_sheet("1").append(["named one"])
    wb.save(tmp_path / "multi.xlsx")
    assert list(read_table(tmp_path / "multi.xlsx", sheet="1").columns) == ["named one"]  # a name wins


@pytest.mark.parametrize(
    "kwargs, flag",
    [
        ({"chunksize": 0}, "--chunk-size"),
        ({"delimiter": ";;"}, "--delimiter"),
        ({"encoding": "utf-16"}, "--encoding"),
        ({"encoding": "no-such-codec"}, "--encoding"),
    ],
)
def test_bad_reading_options_are_one_line_errors(tmp_path: Path, kwargs: dict, flag: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,comment\n1,Pay is bad\n", encoding="utf-8")
    with pytest.raises(TableError, match=flag) as info:
        list(iter_table_chunks(path, **kwargs))
    assert "\n" not in str(info.value)


def test_outputs_get_umask_permissions_and_read_only_targets_are_refused(tmp_path: Path) -> None:
    import os

    from themesift.nlp.atomic import current_umask

    df = pd.DataFrame({"comment": ["a"]})
    for ext in (".csv", ".xlsx", ".parquet", ".jsonl"):
        write_table(df, tmp_path / f"o{ext}")
        assert (tmp_path / f"o{ext}").stat().st_mode & 0o777 == 0o666 & ~current_umask()
    target = tmp_path / "locked.csv"
    target.write_text("keep me", encoding="utf-8")
    os.chmod(target, 0o444)
    with pytest.raises(TableError, match="locked.csv is read-only"):
        write_table(df, target)
    assert target.read_text(encoding="utf-8") == "keep me"


def test_sigterm_while_writing_leaves_no_temp_file(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.csv"
    target.write_text("old output", encoding="utf-8")
    script = (
        "import os, signal, time, pandas as pd\n"
        "from themesift.nlp.tables import TableWriter\n"
        f"with TableWriter({str(target)!r}) as w:\n"
        "    w.write(pd.DataFrame({'comment': ['partial'] * 1000}))\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(30)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert _files(tmp_path) == ["out.csv"] and target.read_text(encoding="utf-8") == "old output"


def test_xlsx_cell_over_excel_limit_is_cut_and_noted(tmp_path: Path) -> None:
    df = pd.DataFrame({"comment": ["x" * 40_000, "short"], "warning": ["", None]})
    with TableWriter(tmp_path / "o.xlsx", note_column="warning") as writer:
        writer.write(df)
    back = read_table(tmp_path / "o.xlsx")
    assert len(back["comment"][0]) == 32_767 and back["comment"][1] == "short"
    assert back["warning"].tolist() == [
        "column 'comment': cut from 40,000 to 32,767 characters (Excel's cell limit)",
        None,
    ]


def test_xlsx_keeps_carriage_returns_and_control_characters(tmp_path: Path) -> None:
    texts = ["a\rb\r\nc", "nul\x00 and bell\x07", "literal _x000D_ stays"]
    write_table(pd.DataFrame({"comment": texts}), tmp_path / "o.xlsx")
    assert read_table(tmp_path / "o.xlsx")["comment"].tolist() == texts
