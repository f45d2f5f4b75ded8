"""Batch classification of real exports: every row back in order, bad input flagged, redaction."""

import json

import pandas as pd
import pytest

from themesift.serve.batch import ClassifyOptions, classify_file


def _opts(**kw):
    return ClassifyOptions(progress=False, **kw)


def test_streaming_keeps_every_row_in_order_across_chunks(tmp_path, tfidf_model_dir, gold_train):
    texts = [r["text"] for r in gold_train[:3000]]
    texts[10], texts[2500] = "", None
    src = tmp_path / "big.csv"
    pd.DataFrame({"rid": range(len(texts)), "comment": texts, "site": ["A", "B", "C"] * 1000}).to_csv(src, index=False)
    out = tmp_path / "big_out.parquet"
    summary = classify_file(src, out, model=tfidf_model_dir, options=_opts(chunk_size=700))
    got = pd.read_parquet(out)
    assert summary.rows == len(got) == 3000
    assert got["rid"].tolist() == [str(i) for i in range(3000)]  # CSV cells stay text
    assert got["site"].tolist() == ["A", "B", "C"] * 1000
    assert got.loc[10, "error"] == "empty comment" and got.loc[2500, "error"] == "empty comment"
    assert summary.flagged >= 2 and summary.classified + summary.flagged == 3000


def test_malformed_line_is_flagged_with_its_line_number_and_kept(tmp_path, default_model):
    src = tmp_path / "export.csv"
    src.write_text(
        "id,comment,dept\n1,Pay is too low,Ops\n2,Great team, really great,Ops,extra\n3,My manager listens,HR\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    classify_file(src, out, model=default_model, options=_opts(language_check=False))
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["id"].tolist() == ["1", "2", "3"]
    assert "line 3" in got.loc[1, "error"]
    assert got.loc[0, "error"] == "" and "pay_benefits:negative" in got.loc[0, "themes"]
    assert "manager_support:positive" in got.loc[2, "themes"]


def test_cp1252_semicolon_export_is_decoded(tmp_path, default_model):
    src = tmp_path / "crm.csv"
    src.write_bytes(
        "id;comment\n1;Café prices are a rip-off – €12 for a sandwich is far too expensive.\n".encode("cp1252")
    )
    out = tmp_path / "out.jsonl"
    classify_file(src, out, model=default_model, options=_opts())
    [row] = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert row["comment"].startswith("Café prices are a rip-off – €12 for a sandwich")
    assert "price_value:negative" in row["themes"]


def test_non_english_and_huge_texts_are_flagged(tmp_path, default_model):
    src = tmp_path / "mixed.jsonl"
    rows = [
        {"text": "Die Bezahlung ist viel zu niedrig und die Führung hört uns nicht zu."},
        {"text": "The pay is far too low. " * 2000},
        {"text": 12345},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    classify_file(src, out, model=default_model, options=_opts(max_chars=5000))
    got = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert got[0]["error"].startswith("not English (de")
    assert got[1]["warning"] == "truncated to 5000 characters" and "pay_benefits:negative" in got[1]["themes"]
    assert got[2]["error"].startswith("not text")
    assert len(got[1]["text"]) == len(rows[1]["text"])  # the input column itself is kept whole


def test_redaction_masks_pii_in_text_and_evidence(tmp_path, default_model):
    src = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "comment": [
                "My manager Sarah Johnson never listens. Email me at jo.bloggs@example.com about pay, "
                "it is far too low."
            ]
        }
    ).to_csv(src, index=False)
    out = tmp_path / "long.csv"
    classify_file(src, out, model=default_model, options=_opts(layout="long", redact=True))
    got = pd.read_csv(out, keep_default_na=False)
    text = got.loc[0, "comment"]
    assert "Sarah" not in text and "jo.bloggs" not in text
    assert "[PERSON]" in text and "[EMAIL]" in text
    for _, r in got.iterrows():
        assert "jo.bloggs" not in r["evidence"]
        assert text[int(r["evidence_start"]) : int(r["evidence_end"])] == r["evidence"]


def test_output_equal_to_input_is_refused(tmp_path, default_model):
    src = tmp_path / "a.csv"
    src.write_text("text\nhello\n")
    with pytest.raises(ValueError, match="must differ"):
        classify_file(src, src, model=default_model, options=_opts())


def test_excel_escapes_are_decoded_for_the_model_and_kept_in_the_output(tmp_path, tfidf_model_dir):
    """openpyxl leaves Excel's escaped carriage return (_x000D_) in cells: the model must not read it,
    and the text column must come back exactly as it was read."""
    import openpyxl

    from themesift.serve.predict import predict

    raw = "The pay is poor._x000D_\nMy manager never listens._x000D_\nTraining is great"
    wb = openpyxl.Workbook()
    wb.active.append(["comment"])
    wb.active.append([raw])
    src = tmp_path / "export.xlsx"
    wb.save(src)
    out = tmp_path / "out.xlsx"
    classify_file(src, out, model=tfidf_model_dir, options=_opts(language_check=False, evidence=True))
    got = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert got.loc[0, "comment"] == raw
    clean = predict(["The pay is poor.\r\nMy manager never listens.\r\nTraining is great"], tfidf_model_dir)[0]
    assert got.loc[0, "themes"] == "; ".join(clean["labels"]) and clean["labels"]
    for span in json.loads(got.loc[0, "evidence"]):  # offsets still point into the original cell
        assert raw[span["start"] : span["end"]] == span["text"]


# --- issue #20: the user's columns, hostile rows, errors before the model loads -----------------

TOOL_NAMES = [
    "score",
    "theme",
    "row",
    "themes",
    "scores",
    "error",
    "warning",
    "polarity",
    "evidence",
    "audience",
    "_parse_error",
    "themesift_error",
]


@pytest.mark.parametrize("layout", ["default", "wide", "long"])
def test_user_columns_named_like_tool_columns_are_kept(tmp_path, tfidf_model_dir, layout):
    user = {name: [f"{name}-{i}" for i in range(3)] for name in TOOL_NAMES}
    user["theme_pay_benefits"] = ["mine"] * 3
    src = tmp_path / "nps.csv"
    pd.DataFrame({"comment": ["Pay is far too low.", "My manager listens.", ""], **user}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    classify_file(
        src,
        out,
        model=tfidf_model_dir,
        options=_opts(layout=layout, language_check=False, audience="employee", evidence=True),
    )
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    first = got.drop_duplicates(subset=["score"]) if layout == "long" else got
    for name, values in user.items():
        assert first[name].tolist() == values, name  # never dropped, renamed or overwritten
    assert first["themesift_error"].tolist() == ["themesift_error-0", "themesift_error-1", "themesift_error-2"]
    assert "themesift_error_2" in got and got["themesift_error_2"].tolist()[-1] == "empty comment"
    assert not any("malformed" in e for e in got["themesift_error_2"])  # B19: the user's _parse_error is data
    assert "themesift_warning" in got and "themesift_audience" in got
    if layout == "long":
        assert "themesift_theme" in got and "themesift_row" in got
    else:
        assert "pay_benefits:negative" in got.loc[0, "themesift_themes"]
    if layout == "wide":
        assert got["themesift_theme_pay_benefits"].tolist()[0] == "negative"


def test_hostile_jsonl_rows_are_flagged_and_late_keys_kept(tmp_path, tfidf_model_dir):
    rows = [{"id": i, "comment": "Pay is far too low."} for i in range(2500)]
    rows[2100]["nps"] = 3
    lines = [json.dumps(r) for r in rows]
    lines[5] = '{"id": 5, "comment": "Manager \\ud83d great"}'
    src = tmp_path / "late.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    summary = classify_file(src, out, model=tfidf_model_dir, options=_opts(language_check=False))
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert summary.rows == len(got) == 2500 and got["id"].tolist() == [str(i) for i in range(2500)]
    assert got.loc[2100, "nps"] == "3" and got.loc[0, "nps"] == ""
    assert "surrogate" in got.loc[5, "error"] and got.loc[5, "comment"] == "Manager \ufffd great"
    assert got.loc[4, "error"] == "" and "pay_benefits" in got.loc[4, "themes"]


def test_excel_output_cut_at_the_cell_limit_is_flagged(tmp_path, tfidf_model_dir):
    src = tmp_path / "long.csv"
    pd.DataFrame({"comment": ["The pay is far too low. " * 2000, "My manager listens."]}).to_csv(src, index=False)
    out = tmp_path / "out.xlsx"
    classify_file(src, out, model=tfidf_model_dir, options=_opts(language_check=False))
    got = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert len(got.loc[0, "comment"]) == 32_767
    assert "column 'comment': cut from 48,000 to 32,767 characters (Excel's cell limit)" in got.loc[0, "warning"]
    assert "truncated to 20000 characters" in got.loc[0, "warning"]  # the model's own warning is kept
    assert got.loc[1, "warning"] == ""


def _cli(capsys, *argv):
    from themesift.cli import main

    rc = main(list(map(str, argv)))
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing input", "file not found"),
        ("input suffix", "unsupported file type '.doc'"),
        ("output folder", "output folder does not exist"),
        ("output suffix", "unsupported file type '.html'"),
        ("read-only output", "is read-only"),
        ("text column", "no column 'remarks'; columns are 'id', 'comment'"),
        ("chunk size", "--chunk-size"),
        ("delimiter", "--delimiter"),
        ("encoding", "--encoding"),
        ("max chars", "--max-chars"),
    ],
)
def test_classify_user_errors_are_one_line_before_the_model_loads(tmp_path, capsys, case, expected):
    """The model given does not exist: had it been loaded first, the error would be about the model."""
    import os

    src = tmp_path / "in.csv"
    src.write_text("id,comment\n1,Pay is bad\n", encoding="utf-8")
    out, extra = tmp_path / "out.csv", []
    if case == "missing input":
        src = tmp_path / "nope.csv"
    elif case == "input suffix":
        src = tmp_path / "in.doc"
        src.write_text("x")
    elif case == "output folder":
        out = tmp_path / "missing" / "out.csv"
    elif case == "output suffix":
        out = tmp_path / "out.html"
    elif case == "read-only output":
        out.write_text("old")
        os.chmod(out, 0o444)
    elif case == "text column":
        extra = ["--text-column", "remarks"]
    elif case == "chunk size":
        extra = ["--chunk-size", "0"]
    elif case == "delimiter":
        extra = ["--delimiter", ";;"]
    elif case == "encoding":
        extra = ["--encoding", "utf-16"]
    else:
        extra = ["--max-chars", "-3"]
    rc, err = _cli(capsys, "classify", src, "-o", out, "--model", tmp_path / "no-such-model", "--quiet", *extra)
    assert rc == 2 and expected in err, err
    assert err.startswith("themesift classify: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_report_refuses_a_missing_folder_and_writes_formula_safe_tables(tmp_path, capsys):
    from themesift.report import write_report

    pred = tmp_path / "pred.csv"
    pd.DataFrame(
        {
            "comment": ['=HYPERLINK("http://evil","pay")', "Pay is low", "Pay is bad"],
            "themes": ["pay_benefits:negative"] * 3,
            "scores": ['{"pay_benefits": 0.9}'] * 3,
            "error": ["", "", ""],
        }
    ).to_csv(pred, index=False)
    rc, err = _cli(capsys, "report", pred, "-o", tmp_path / "missing" / "r.html")
    assert rc == 2 and "output folder does not exist" in err and not (tmp_path / "missing").exists()
    rc, err = _cli(capsys, "report", pred, "-o", tmp_path / "r.html", "--tables", tmp_path / "t.txt")
    assert rc == 2 and "--tables" in err and err.count("\n") == 1
    write_report(pred, tmp_path / "r.html", tables_path=tmp_path / "tables")
    raw = (tmp_path / "tables" / "examples.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw and '"=HYPERLINK' not in raw
    assert sorted(p.name for p in (tmp_path / "tables").iterdir() if p.name.startswith(".")) == []
