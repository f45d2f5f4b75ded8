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
    assert read_table(tmp_path / "a.json").to_dict("records") == [
        {"id": 1, "text": "a"}, {"id": 2, "text": "b"}]
    assert read_table(tmp_path / "b.json")["text"].tolist() == ["x"]


# --- encodings and delimiters --------------------------------------------------------------


def test_cp1252_semicolon_fixture() -> None:
    path = FIXTURES / "tables_cp1252_semicolon.csv"
    assert detect_encoding(path) == "cp1252"
    df = read_table(path)
    assert list(df.columns) == ["ID", "Comment", "Score"]
    assert df["Comment"].tolist() == [
        "Café staff are naïve – but friendly", 'Bonus was €500, "fair" I guess', "NA"]


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
        "\n".join(delim.join(f'"{c}"' if (delim in c or "," in c) else c for c in r)
                  for r in rows) + "\n", encoding="utf-8")
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
    assert df["_parse_error"].tolist() == [
        "line 2: bad quoting (unexpected end of data)", None, None]


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
        "unsupported file type '.doc' for x.doc; use one of "
        ".csv, .tsv, .txt, .jsonl, .json, .parquet, .xlsx"
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
    assert read_table(tmp_path / "x.xlsx", sheet="Data").values.tolist() == [
        [1, "hello"], [2, "world"]]
    assert list(read_table(tmp_path / "x.xlsx", sheet=1).columns) == ["id", "text"]
    assert list(read_table(tmp_path / "x.xlsx").columns) == ["note"]
    with pytest.raises(TableError, match="no sheet 'Nope'.*Intro, Data"):
        read_table(tmp_path / "x.xlsx", sheet="Nope")


# --- writing -----------------------------------------------------------------------------------


def test_failed_write_leaves_no_output_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with TableWriter(path) as writer:
            writer.write(SAMPLE)
            raise RuntimeError("boom")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_failed_write_keeps_existing_target(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"out{ext}"
    write_table(SAMPLE.iloc[:1], path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        with TableWriter(path) as writer:
            writer.write(SAMPLE)
            raise ValueError("half-way failure")
    assert path.read_bytes() == before
    assert _files(tmp_path) == [path.name]


def test_lists_flattened_for_text_formats_and_kept_elsewhere(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [1, 2], "themes": [["pay", "culture"], []],
                       "evidence": [[{"start": 0, "end": 3}], None]})
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
        {"id": 1, "note": None, "score": 0.5}, {"id": 2, "note": "later text", "score": None}]
    with pytest.raises(TableError, match="columns \\['surprise'\\]"):
        with TableWriter(tmp_path / "q.parquet") as writer:
            writer.write(pd.DataFrame({"id": [1]}))
            writer.write(pd.DataFrame({"id": [2], "surprise": ["x"]}))
    assert not (tmp_path / "q.parquet").exists()


def test_later_columns_allowed_in_jsonl_only(tmp_path: Path) -> None:
    with TableWriter(tmp_path / "o.jsonl") as writer:
        writer.write(pd.DataFrame({"id": [1], "text": ["a"]}))
        writer.write(pd.DataFrame({"text": ["b"], "id": [2], "new": ["x"]}))
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == [
        {"id": 1, "text": "a"}, {"id": 2, "text": "b", "new": "x"}]
    with pytest.raises(TableError, match="columns \\['new'\\]"):
        with TableWriter(tmp_path / "o.csv") as writer:
            writer.write(pd.DataFrame({"id": [1]}))
            writer.write(pd.DataFrame({"id": [2], "new": ["x"]}))
    assert not (tmp_path / "o.csv").exists()


def test_xlsx_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_writer, "XLSX_MAX_DATA_ROWS", 5)
    with pytest.raises(TableError, match="too many rows for Excel"):
        with TableWriter(tmp_path / "big.xlsx") as writer:
            writer.write(pd.DataFrame({"x": range(4)}))
            writer.write(pd.DataFrame({"x": range(2)}))
    assert _files(tmp_path) == []


def test_cannot_write_unsupported(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="unsupported file type '.doc'"):
        TableWriter(tmp_path / "x.doc")
    with pytest.raises(TableError, match="output folder does not exist"):
        with TableWriter(tmp_path / "missing" / "x.csv"):
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
