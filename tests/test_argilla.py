"""Argilla half of the labeling loop: ``suggest --format argilla`` writes the folder
``rg.Dataset.from_disk`` loads, and ``train`` reads Argilla's exported records back (nested, as
``dataset.records.to_json`` / ``to_disk`` write them, and flat, as ``to_list(flatten=True)`` /
``to_datasets()`` do): submitted responses are the labels, drafts and discarded records are left
out and counted, a malformed file is one line naming the file and the record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import SHARED, read_jsonl
from themesift.cli import main
from themesift.models.registry import load_artifact
from themesift.nlp.tables import read_table
from themesift.training.data import load_labeled
from themesift.training.labels_io import LabelDataError
from themesift.training.suggest import suggest

POOL = SHARED / "data" / "employee-reviews" / "pool.jsonl"
ANNA, BEN, CHLOE = (f"00000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))
SUB = "submitted"
LOW_PAY = "Pay is low and my manager ignores me"


@pytest.fixture(scope="module")
def pool_csv(tmp_path_factory):
    if not POOL.is_file():
        pytest.skip(f"shared data not found at {POOL}")
    path = tmp_path_factory.mktemp("pool") / "pool.csv"
    pd.DataFrame({"comment": [r["text"] for r in read_jsonl(POOL, limit=600)]}).to_csv(path, index=False)
    return path


def _suggest(model_dir, pool_csv, out, *extra) -> int:
    return main(["suggest", "--model", str(model_dir), "--data", str(pool_csv), "-n", "30", "-o", str(out), *extra])


def test_suggest_writes_the_to_disk_folder(tfidf_model_dir, pool_csv, tmp_path):
    folder = tmp_path / "round 1"
    assert _suggest(tfidf_model_dir, pool_csv, folder, "--format", "argilla") == 0
    picks_path = tmp_path / "picks.json"  # --format csv writes CSV whatever the suffix
    assert _suggest(tfidf_model_dir, pool_csv, picks_path, "--format", "csv") == 0
    assert picks_path.read_text(encoding="utf-8").startswith("row,text,uncertain_theme,uncertainty,model_labels")
    model = load_artifact(tfidf_model_dir)
    picks = suggest(model, read_table(pool_csv)["comment"].tolist(), 30)  # what the CLI wrote, as a table

    dataset = json.loads((folder / ".argilla" / "dataset.json").read_text(encoding="utf-8"))
    assert dataset["name"] == "round-1" and dataset["status"] == "draft" and dataset["workspace_id"] is None
    settings = json.loads((folder / ".argilla" / "settings.json").read_text(encoding="utf-8"))
    assert [(f["name"], f["type"]) for f in settings["fields"]] == [("text", "text")]
    (question,) = settings["questions"]
    assert question["name"] == "themes" and question["type"] == question["settings"]["type"] == "multi_label_selection"
    options = [o["value"] for o in question["settings"]["options"]]
    assert len(options) == len(model.themes) * len(model.label_space_.polarities) == len(set(options))
    assert {m["name"]: m["settings"]["type"] for m in settings["metadata"]} == {
        "row": "integer",
        "uncertain_theme": "terms",
        "uncertainty": "float",
    }
    assert settings["allow_extra_metadata"] is False and settings["distribution"]["min_submitted"] == 1

    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    assert [r["fields"]["text"] for r in records] == picks["text"].tolist()
    assert len({r["id"] for r in records}) == 30
    for record, pick in zip(records, picks.itertuples()):
        assert set(record) == {"id", "fields", "metadata", "suggestions", "responses", "vectors", "status"} | {
            "_server_id"
        }
        assert record["metadata"] == {
            "row": pick.row,
            "uncertain_theme": pick.uncertain_theme,
            "uncertainty": pytest.approx(pick.uncertainty),
        }
        assert record["metadata"]["uncertain_theme"] in model.themes
        suggested = record["suggestions"].get("themes", {}).get("value", [])
        assert "; ".join(suggested) == pick.model_labels and set(suggested) <= set(options)
        assert record["responses"] == {} and record["status"] == "pending"


def test_suggest_refuses_a_folder_with_files(tfidf_model_dir, pool_csv, tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "records.json").write_text("[]", encoding="utf-8")
    assert _suggest(tfidf_model_dir, pool_csv, tmp_path / "old", "--format", "argilla") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "must be new or empty" in err
    assert (tmp_path / "old" / "records.json").read_text(encoding="utf-8") == "[]"


def _nested(rid, text, status, responses, **metadata):
    """One record as ``dataset.records.to_json`` writes it (Argilla 2.8: responses carry value and
    user_id; the record's status says whether it reached its submitted responses)."""
    return {
        "id": rid,
        "fields": {"text": text},
        "metadata": metadata,
        "suggestions": {"themes": {"value": ["pay:negative"], "score": None, "agent": "themesift"}},
        "responses": {"themes": [{"value": v, "user_id": u, **({"status": s} if s else {})} for u, v, s in responses]}
        if responses
        else {},
        "vectors": {},
        "status": status,
        "_server_id": f"5e7e0000-0000-0000-0000-{rid[-1]:0>12}",
    }


NESTED = [
    _nested("r1", LOW_PAY, "completed", [(ANNA, ["pay:negative", "manager:negative"], "")]),
    _nested("r2", "Great team", "pending", [(ANNA, ["team:positive"], None)]),  # a draft: status dropped by 2.8
    _nested("r3", "Nothing else to add", "completed", []),  # submitted with nothing ticked
    _nested("r4", "asdf", "pending", []),  # discarded without values / never answered
    _nested(  # responses that keep their status (Response.serialize): two of three annotators agree
        "r5",
        "Pay is fine, team is fun",
        "completed",
        [
            (ANNA, ["pay:positive", "team:positive"], "submitted"),
            (BEN, ["pay:neutral", "team:positive"], "submitted"),
            (CHLOE, ["pay:positive"], "submitted"),
        ],
    ),
    _nested("r6", "The canteen", "completed", [(ANNA, ["food:neutral"], "discarded")]),
    _nested("r7", "Parking is a nightmare", "pending", [(BEN, ["facilities:negative"], "draft")]),
]


def _flat(rid, text, status, responses):
    """One record as ``dataset.records.to_list(flatten=True)`` writes it."""
    return {
        "id": rid,
        "status": status,
        "_server_id": None,
        "text": text,
        "row": int(rid[1:]),
        "themes.responses": [v for _, v, _ in responses] or None,
        "themes.responses.users": [u for u, _, _ in responses] or None,
        "themes.responses.status": [s for _, _, s in responses] or None,
        "themes.suggestion": ["pay:negative"],
        "themes.suggestion.score": None,
        "themes.suggestion.agent": "themesift",
    }


FLAT = [
    _flat("r1", LOW_PAY, "completed", [(ANNA, ["pay:negative", "manager:negative"], SUB)]),
    _flat("r2", "Great team", "pending", [(ANNA, ["team:positive"], "draft")]),
    _flat("r3", "asdf", "pending", [(BEN, ["pay:neutral"], "discarded")]),
    _flat("r4", "Nothing else to add", "completed", []),
    _flat("r5", "Untouched", "pending", []),
    _flat(
        "r6",
        "Pay is fine, team is fun",
        "completed",
        [(ANNA, ["pay:positive", "team:positive"], "submitted"), (BEN, ["pay:positive"], "submitted")],
    ),
]


def test_nested_export_reads_submitted_responses(tmp_path, capsys):
    path = tmp_path / "labeled.json"
    path.write_text(json.dumps(NESTED), encoding="utf-8")
    data = load_labeled(path)
    assert dict(zip(data.texts, data.label_sets)) == {
        "Pay is low and my manager ignores me": ["manager:negative", "pay:negative"],
        "Nothing else to add": [],
        "Pay is fine, team is fun": ["pay:positive", "team:positive"],  # pay ticked by 3, positive by 2
    }
    assert capsys.readouterr().err.strip() == (
        f"{path}: 3 Argilla records with a submitted 'themes' response; left out 3 with none "
        "(unanswered or draft) and 1 discarded"
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])  # to_datasets().to_json(...) / .to_parquet(...)
def test_flat_export_reads_submitted_responses(tmp_path, capsys, suffix):
    path = tmp_path / f"labeled{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in FLAT), encoding="utf-8")
    else:
        pd.DataFrame(FLAT).to_parquet(path)
    data = load_labeled(path)
    assert dict(zip(data.texts, data.label_sets)) == {
        "Pay is low and my manager ignores me": ["manager:negative", "pay:negative"],
        "Nothing else to add": [],
        "Pay is fine, team is fun": ["pay:positive", "team:positive"],  # team: 1 of 2 is half, kept
    }
    assert "left out 2 with none (unanswered or draft) and 1 discarded" in capsys.readouterr().err


def test_round_trip_suggest_label_train(tfidf_model_dir, pool_csv, tmp_path, capsys):
    folder = tmp_path / "to-label"
    assert _suggest(tfidf_model_dir, pool_csv, folder, "--format", "argilla") == 0
    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    # the annotator accepts the suggestions (untick all: no theme), leaves two as drafts, discards one;
    # Argilla's dataset.to_disk then holds them as records.json does here
    for i, record in enumerate(records):
        value = record["suggestions"].get("themes", {}).get("value", [])
        status = "draft" if i in (3, 4) else "discarded" if i == 5 else "submitted"
        record["responses"] = {"themes": [{"value": value, "user_id": ANNA}]} if status != "discarded" else {}
        record["status"] = "completed" if status == "submitted" else "pending"
        record["_server_id"] = f"5e7e0000-0000-0000-0000-{i:0>12}"
    export = tmp_path / "exported"
    (export / ".argilla").mkdir(parents=True)
    for rel in (".argilla/settings.json", ".argilla/dataset.json"):
        (export / rel).write_text((folder / rel).read_text(encoding="utf-8"), encoding="utf-8")
    (export / "records.json").write_text(json.dumps(records), encoding="utf-8")
    capsys.readouterr()
    argv = ["train", "--data", str(export), "--family", "tfidf", "--output", str(tmp_path / "m2"), "--dev-size", "0.2"]
    assert main(argv) == 0
    assert "27 Argilla records with a submitted 'themes' response; left out 3 with none" in capsys.readouterr().err
    assert load_artifact(tmp_path / "m2").themes  # a model that predicts themes, ready for the next suggest


def _bad(record_changes: dict) -> list[dict]:
    return [NESTED[0], {**NESTED[4], **record_changes}]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (_bad({"fields": None}), "record 2 (id 'r5'): no fields object"),
        (_bad({"fields": {"comment": "x"}}), "record 2 (id 'r5'): no field 'text'"),
        (_bad({"responses": ["pay:positive"]}), "record 2 (id 'r5'): responses is not an object"),
        (
            _bad({"responses": {"themes": [{"value": 3, "user_id": ANNA, "status": "submitted"}]}}),
            "record 2 (id 'r5'): the 'themes' response 3 is not a list of labels",
        ),
        (
            _bad({"responses": {"themes": [{"value": ["pay:positive", "pay:negative"], "status": "submitted"}]}}),
            "record 2 (id 'r5'): bad 'themes' response ['pay:positive', 'pay:negative']: theme 'pay' appears twice",
        ),
        (
            _bad({"responses": {"themes": [{"value": ["pay:positive"], "status": "accepted"}]}}),
            "record 2 (id 'r5'): response status 'accepted' is not one of submitted, draft, discarded",
        ),
        (_bad({"responses": {"themes": [{"user_id": ANNA}]}}), "(id 'r5'): a 'themes' response without a value"),
        (
            [
                {**NESTED[0], "responses": {"topics": NESTED[0]["responses"]["themes"]}},
                {**NESTED[4], "responses": {"sentiment": [{"value": "positive", "user_id": ANNA}]}},
            ],
            "which Argilla question holds the labels? found 'topics', 'sentiment' (name it with --labels-column)",
        ),
        ([NESTED[1], NESTED[3]], "no Argilla record with a submitted response to 'themes' (2 without one, 0 discard"),
    ],
)
def test_bad_exports_are_one_line_errors(tmp_path, capsys, records, message):
    path = tmp_path / "labeled.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(LabelDataError) as info:
        load_labeled(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)
    assert main(["train", "--data", str(path), "--family", "tfidf", "--output", str(tmp_path / "m")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "Argilla records with" not in line]
    assert len(err) == 1 and message in err[0]


def test_flat_response_columns_must_line_up(tmp_path):
    path = tmp_path / "labeled.json"
    row = {**FLAT[5], "themes.responses.status": ["submitted"]}
    path.write_text(json.dumps([FLAT[0], row]), encoding="utf-8")
    with pytest.raises(LabelDataError, match=r"record 2 \(id 'r6'\): 'themes' has 2 responses but 2 users and 1"):
        load_labeled(path)


def test_labels_column_names_the_question(tmp_path):
    records = [{**r, "responses": {"topics": r["responses"]["themes"]}} for r in NESTED if r["responses"]]
    records.append({**NESTED[4], "fields": {"text": "Fine"}, "responses": {"sentiment": [{"value": "positive"}]}})
    path = tmp_path / "labeled.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    data = load_labeled(path, labels_column="topics")
    assert data.label_sets[0] == ["manager:negative", "pay:negative"]
