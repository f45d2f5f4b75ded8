"""Spark scale-out on a real local[2] session: same answers as predict(), rows in order,
input columns kept, null/empty texts flagged rather than dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")

from themesift.serve.predict import predict  # noqa: E402
from themesift.serve.spark import classify_dataframe, classify_path  # noqa: E402

ODD = [None, "", "   "]
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("themesift-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.executorEnv.THEMESIFT_THREADS", "1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def frame(gold_dev) -> pd.DataFrame:
    """40 real comments plus null/blank ones, an id, and extra columns of other types."""
    texts = [r["text"] for r in gold_dev[:40]]
    texts[5:5] = ODD
    return pd.DataFrame(
        {
            "id": range(len(texts)),
            "group": [f"g{i % 3}" for i in range(len(texts))],
            "text": texts,
            "weight": [i / 4 for i in range(len(texts))],
        }
    )


def expected_columns(results: list[dict]) -> tuple[list, list, list]:
    return (
        [r["labels"] for r in results],
        [{t["theme"]: t["score"] for t in r["themes"]} for r in results],
        [r["error"] for r in results],
    )


def test_dataframe_equals_predict_in_order(spark, frame, tfidf_model_dir):
    df = spark.createDataFrame(frame)
    assert df.rdd.getNumPartitions() >= 2  # order must survive more than one partition
    out = classify_dataframe(df, model=tfidf_model_dir)
    assert out.columns == list(frame.columns) + ["themes", "scores", "audience", "error"]
    rows = out.collect()
    assert [r["id"] for r in rows] == list(frame["id"])
    for column in ("group", "weight"):
        assert [r[column] for r in rows] == list(frame[column])
    assert [r["text"] for r in rows] == [t if isinstance(t, str) else None for t in frame["text"]]
    themes, scores, errors = expected_columns(predict(list(frame["text"]), tfidf_model_dir))
    assert [list(r["themes"]) for r in rows] == themes
    assert [dict(r["scores"]) for r in rows] == scores
    assert [r["error"] for r in rows] == errors
    assert errors[5:8] == ["empty comment"] * 3 and sum(e is None for e in errors) == 40
    assert sum(bool(t) for t in themes) > 10  # the model does find themes


def test_evidence_column(spark, frame, tfidf_model_dir):
    texts = [t for t in frame["text"] if isinstance(t, str) and ". " in t][:6] + [None]
    df = spark.createDataFrame(pd.DataFrame({"text": texts}))
    rows = classify_dataframe(df, model=tfidf_model_dir, evidence=True).collect()
    expected = predict(texts, tfidf_model_dir, evidence=True)
    got = [[(e["theme"], e["text"], e["start"], e["end"]) for e in r["evidence"]] for r in rows]
    want = [
        [(t["theme"], e["text"], e["start"], e["end"]) for t in r["themes"] for e in t["evidence"]] for r in expected
    ]
    assert got == want and any(got)


def test_parquet_file_to_parquet_folder(spark, frame, tfidf_model_dir, tmp_path):
    src, dst = tmp_path / "comments.parquet", tmp_path / "out"
    frame.rename(columns={"text": "comment"}).to_parquet(src, index=False)
    classify_path(src, dst, text_col="comment", model=tfidf_model_dir)
    assert spark.getActiveSession() is not None  # an existing session is used, not stopped
    out = pd.read_parquet(dst)
    assert list(out.columns) == ["id", "group", "comment", "weight", "themes", "scores", "audience", "error"]
    assert list(out["id"]) == list(frame["id"])
    themes, scores, errors = expected_columns(predict(list(frame["text"]), tfidf_model_dir))
    assert [list(t) for t in out["themes"]] == themes
    assert [dict(s) for s in out["scores"]] == scores
    assert [None if pd.isna(e) else e for e in out["error"]] == errors
    with pytest.raises(FileExistsError):
        classify_path(src, dst, text_col="comment", model=tfidf_model_dir)


def test_csv_to_csv(spark, frame, tfidf_model_dir, tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    classify_path(src, dst, model=tfidf_model_dir)
    parts = sorted(dst.glob("part-*.csv"))
    out = pd.concat([pd.read_csv(p, keep_default_na=False) for p in parts], ignore_index=True)
    assert list(out["id"]) == list(frame["id"])
    themes, scores, _ = expected_columns(predict(list(frame["text"]), tfidf_model_dir))
    assert [t.split(";") if t else [] for t in out["themes"]] == themes
    assert [json.loads(s) for s in out["scores"]] == scores


def test_bad_arguments_fail_on_the_driver(spark, tfidf_model_dir):
    df = spark.createDataFrame(pd.DataFrame({"text": ["a"], "error": ["x"]}))
    with pytest.raises(ValueError, match="already has column"):
        classify_dataframe(df, model=tfidf_model_dir)
    with pytest.raises(ValueError, match="no column 'body'"):
        classify_dataframe(df, text_col="body", model=tfidf_model_dir)
    with pytest.raises(TypeError, match="path"):
        classify_dataframe(df.drop("error"), model=object())


@pytest.mark.slow
def test_cli_creates_and_stops_its_own_session(frame, tfidf_model_dir, tmp_path):
    """`themesift spark-classify` in a fresh process: its own local[1] session, Parquet out."""
    src, dst = tmp_path / "in.parquet", tmp_path / "out"
    frame.to_parquet(src, index=False)
    env = {**os.environ, "THEMESIFT_THREADS": "1"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "themesift.cli",
            "spark-classify",
            str(src),
            "-o",
            str(dst),
            "--master",
            "local[1]",
            "--model",
            str(tfidf_model_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = pd.read_parquet(dst)
    assert list(out["id"]) == list(frame["id"])
    assert [list(t) for t in out["themes"]] == expected_columns(predict(list(frame["text"]), tfidf_model_dir))[0]


def test_audience_column_on_spark_matches_predict(spark, frame, tmp_path_factory, gold_train):
    """A model whose taxonomy has audiences: a per-row audience column gives predict()'s answers per row,
    and a bad audience cell is flagged on its row, not fatal."""
    from themesift.training.train import TrainConfig, train

    rows = [r for r in gold_train if r["source"].startswith("customer")][:400]
    rows += [r for r in gold_train if r["source"].startswith("employee")][:600]
    data = tmp_path_factory.mktemp("spark-aud") / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": r["text"], "labels": r["labels"], "audience": r["source"].split("-")[0]}) + "\n"
            for r in rows
        ),
        "utf-8",
    )
    model = train(
        TrainConfig(data=str(data), output=str(data.parent / "m"), default_taxonomy=True, params={"max_iter": 300})
    ).path
    with_audience = frame.assign(who=(["employee", "customer", None] * len(frame))[: len(frame)])
    with_audience.loc[0, "who"] = "boss"
    out = classify_dataframe(spark.createDataFrame(with_audience), model=str(model), audience_col="who").collect()
    assert [r["id"] for r in out] == list(frame["id"])
    assert out[0]["error"].startswith("bad audience: 'boss'") and list(out[0]["themes"]) == []
    given = [None if i == 0 else w for i, w in enumerate(with_audience["who"])]
    expected = predict(list(frame["text"]), model, audience=given)
    for row, exp in list(zip(out, expected))[1:]:
        assert list(row["themes"]) == exp["labels"] and row["audience"] == exp["audience"]
    assert {r["audience"] for r in out[1:] if r["error"] is None} == {"employee", "customer"}
