"""themesift suggest: uncertain comments spread over the themes, no near-duplicates, a Label
Studio task file that a Label Studio export of it trains from (the loop closes)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED, read_jsonl
from themesift.models.registry import load_artifact
from themesift.training.suggest import suggest, uncertainty

POOL = SHARED / "data" / "employee-reviews" / "pool.jsonl"


@pytest.fixture(scope="module")
def pool():
    if not POOL.is_file():
        pytest.skip(f"shared data not found at {POOL}")
    texts = [r["text"] for r in read_jsonl(POOL, limit=1500)]
    return texts + texts[:50] + [t.upper() + "!" for t in texts[50:80]]  # exact and near duplicates


def test_picks_are_uncertain_varied_and_not_duplicated(tfidf_model_dir, pool):
    model = load_artifact(tfidf_model_dir)
    table = suggest(model, pool, 40)
    assert len(table) == 40
    assert table["text"].str.strip().str.casefold().nunique() == 40
    assert table["uncertain_theme"].nunique() >= min(10, len(model.themes))  # rare themes get a turn too
    scores = uncertainty(model, pool).max(axis=1)
    picked = table["row"].to_numpy() - 1
    assert np.median(scores[picked]) > np.median(scores)  # more uncertain than the pool


def test_label_studio_round_trip_trains(tfidf_model_dir, pool, tmp_path, capsys):
    from themesift.cli import main

    src = tmp_path / "pool.csv"
    pd.DataFrame({"comment": pool[:600]}).to_csv(src, index=False)
    tasks_path = tmp_path / "tasks.json"
    assert (
        main(["suggest", "--model", str(tfidf_model_dir), "--data", str(src), "-n", "30", "-o", str(tasks_path)]) == 0
    )
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert len(tasks) == 30 and all("text" in t["data"] and t["predictions"][0]["result"] for t in tasks)
    config = (tmp_path / "tasks.json.config.xml").read_text(encoding="utf-8")
    assert '<Choices name="themes" toName="text" choice="multiple"' in config
    # an annotator accepts the suggestions as they are: Label Studio's export format
    export = [
        {"id": i, "data": t["data"], "annotations": [{"result": t["predictions"][0]["result"]}]}
        for i, t in enumerate(tasks)
    ]
    export_path = tmp_path / "export.json"
    export_path.write_text(json.dumps(export), encoding="utf-8")
    assert (
        main(
            [
                "train",
                "--data",
                str(export_path),
                "--family",
                "tfidf",
                "--output",
                str(tmp_path / "m2"),
                "--dev-size",
                "0.2",
            ]
        )
        == 0
    )
    assert (tmp_path / "m2" / "config.json").is_file()


def _ls_task(task_id: int, text: str, annotations: list[dict]) -> dict:
    """A task as Label Studio's JSON export writes it (the task format page of its docs)."""
    return {
        "id": task_id,
        "created_at": "2021-03-09T21:52:49.513742Z",
        "updated_at": "2021-03-09T22:16:08.746926Z",
        "project": 83,
        "data": {"text": text, "row": task_id, "uncertain_theme": "pay"},
        "annotations": annotations,
        "predictions": [{"model_version": "themesift", "score": 0.9, "result": []}],
    }


def _ls_annotation(choices: list[str], cancelled: bool = False) -> dict:
    return {
        "id": "1001",
        "result": [
            {
                "id": "Dx_aB91ISN",
                "from_name": "themes",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": choices},
            }
        ],
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": "2021-03-09T22:16:08.728353Z",
        "updated_at": "2021-03-09T22:16:08.728378Z",
        "lead_time": 4.288,
        "result_count": 0,
        "task": 1,
        "completed_by": 10,
    }


def test_label_studio_export_as_documented(tmp_path):
    from themesift.training.data import load_labeled

    export = [
        _ls_task(1, "Pay is low, my manager is great", [_ls_annotation(["pay:negative", "manager:positive"])]),
        _ls_task(2, "asdf", [_ls_annotation(["pay:neutral"], cancelled=True)]),  # skipped by the annotator
        _ls_task(3, "Not looked at yet", []),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    data = load_labeled(path)
    assert data.texts == ["Pay is low, my manager is great"]
    assert data.label_sets == [["manager:positive", "pay:negative"]]


def test_half_the_picks_are_unsure_on_several_themes_and_spread_over_clusters(tfidf_model_dir, pool):
    from themesift.training.suggest import clusters

    model = load_artifact(tfidf_model_dir)
    texts = [t for t in pool if re.search(r"(?u)\b\w\w+\b", t)]  # suggest clusters the comments with a word
    table = suggest(model, texts, 40)
    summed = uncertainty(model, texts).sum(axis=1)
    picked = table["row"].to_numpy() - 1
    assert picked[0] == int(np.argmax(summed))  # the whole-comment stream has the largest share: it goes first
    whole = np.sort(summed[picked])[-20:]  # the half that is not going round the themes
    assert np.median(whole) > np.quantile(summed, 0.9)  # unsure on several themes at once
    assert len(set(clusters(texts, 40)[picked])) == 40  # one pick per cluster of the pool


def test_comments_without_a_word_are_never_picked(tfidf_model_dir, pool):
    model = load_artifact(tfidf_model_dir)
    wordless = ["!!!", "🙂🙂", "...", "?"]
    table = suggest(model, wordless + pool[:30], 34)
    assert not set(table["text"]) & set(wordless)
    assert suggest(model, wordless, 4).empty
