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
    src.write_text("id,comment,dept\n1,Pay is too low,Ops\n2,Great team, really great,Ops,extra\n3,My manager listens,HR\n",
                   encoding="utf-8")
    out = tmp_path / "out.csv"
    classify_file(src, out, model=default_model, options=_opts(language_check=False))
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["id"].tolist() == ["1", "2", "3"]
    assert "line 3" in got.loc[1, "error"]
    assert got.loc[0, "error"] == "" and "pay_benefits:negative" in got.loc[0, "themes"]
    assert "manager_support:positive" in got.loc[2, "themes"]


def test_cp1252_semicolon_export_is_decoded(tmp_path, default_model):
    src = tmp_path / "crm.csv"
    src.write_bytes("id;comment\n1;Café prices are a rip-off – €12 for a sandwich is far too expensive.\n".encode("cp1252"))
    out = tmp_path / "out.jsonl"
    classify_file(src, out, model=default_model, options=_opts())
    [row] = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert row["comment"].startswith("Café prices are a rip-off – €12 for a sandwich")
    assert "price_value:negative" in row["themes"]


def test_non_english_and_huge_texts_are_flagged(tmp_path, default_model):
    src = tmp_path / "mixed.jsonl"
    rows = [{"text": "Die Bezahlung ist viel zu niedrig und die Führung hört uns nicht zu."},
            {"text": "The pay is far too low. " * 2000},
            {"text": 12345}]
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
    pd.DataFrame({"comment": ["My manager Sarah Johnson never listens. Email me at jo.bloggs@example.com about pay, "
                              "it is far too low."]}).to_csv(src, index=False)
    out = tmp_path / "long.csv"
    classify_file(src, out, model=default_model, options=_opts(layout="long", redact=True))
    got = pd.read_csv(out, keep_default_na=False)
    text = got.loc[0, "comment"]
    assert "Sarah" not in text and "jo.bloggs" not in text
    assert "[PERSON]" in text and "[EMAIL]" in text
    for _, r in got.iterrows():
        assert "jo.bloggs" not in r["evidence"]
        assert text[int(r["evidence_start"]):int(r["evidence_end"])] == r["evidence"]


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
        assert raw[span["start"]:span["end"]] == span["text"]
