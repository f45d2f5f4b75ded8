"""Spark scale-out over ``predict``: classify a DataFrame column, or Parquet/CSV files.

Each Python worker loads the model once (``predict.resolve_model`` caches it per process, and
Spark reuses Python workers); only the model *path* travels to the workers. Rows keep
their order and every input column, and unusable texts (null, blank, non-text) are
flagged in ``error``, never dropped. Workers run torch with ``THEMESIFT_THREADS=1`` unless
that is set: Spark already runs one worker per core.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

OUTPUT_COLUMNS = ("themes", "scores", "audience", "error")


def _model_ref(model: str | Path | None) -> str:
    """What workers get: an absolute artifact path, or "default" for the shipped model."""
    if model is None or str(model) == "default":
        return "default"
    if not isinstance(model, (str, Path)):
        raise TypeError(
            "classify_dataframe takes a model directory (path), not a model object: "
            "only the path is sent to Spark workers"
        )
    path = Path(model).expanduser().resolve()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model directory not found or not a themesift model: {path}")
    return str(path)


def _classify_batches(
    batches: Iterator[pd.DataFrame],
    text_col: str,
    model_ref: str,
    evidence: bool,
    audience: str,
    audience_col: str | None,
) -> Iterator[pd.DataFrame]:
    """Runs inside a Python worker: one ``predict`` call per Arrow batch."""
    os.environ.setdefault("THEMESIFT_THREADS", "1")
    from themesift.models.audience import AudienceError, check_audience
    from themesift.serve.predict import predict, resolve_model

    clf = resolve_model(None if model_ref == "default" else model_ref)
    for pdf in batches:
        texts = pdf[text_col].tolist()
        audiences: list = [audience] * len(texts)
        bad: dict[int, str] = {}
        if audience_col is not None:
            for i, value in enumerate(pdf[audience_col].tolist()):
                try:
                    audiences[i] = check_audience(value) or audience
                except AudienceError:
                    audiences[i] = audience
                    bad[i] = f"bad audience: {value!r} in column {audience_col!r} is not employee, customer or auto"
                    texts[i] = None  # flagged below, not classified
        results = predict(texts, clf, evidence=evidence, audience=audiences)
        for i, message in bad.items():
            results[i]["error"] = message
        out = pdf.copy()
        out["themes"] = [r["labels"] for r in results]
        out["scores"] = [{t["theme"]: t["score"] for t in r["themes"]} for r in results]
        out["audience"] = [r["audience"] for r in results]
        out["error"] = [r["error"] for r in results]
        if evidence:
            out["evidence"] = [
                [{"theme": t["theme"], **e} for t in r["themes"] for e in t.get("evidence", [])] for r in results
            ]
        yield out


def classify_dataframe(
    df: DataFrame,
    text_col: str | None = None,
    model: str | Path | None = None,
    evidence: bool = False,
    audience: str = "auto",
    audience_col: str | None = None,
) -> DataFrame:
    """All of ``df``'s columns, in order, plus ``themes`` (array of ``theme:polarity``),
    ``scores`` (theme → presence score for the themes found), ``audience`` (the one used) and
    ``error`` (null when fine); with ``evidence``, also ``evidence`` (array of {theme, text, start, end}).
    ``audience`` / ``audience_col`` are predict()'s audience, for all rows or per row."""
    from pyspark.sql.types import ArrayType, DoubleType, IntegerType, MapType, StringType, StructField, StructType

    from themesift.models.audience import check_audience
    from themesift.nlp.tables import resolve_text_column

    # named, else detected as classify does (one rule: nlp.tables); a TableError names the columns
    text_col = resolve_text_column(df.columns, text_col)
    if audience_col is not None and audience_col not in df.columns:
        raise ValueError(f"no audience column {audience_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    audience = check_audience(audience) or "auto"
    added = OUTPUT_COLUMNS + (("evidence",) if evidence else ())
    clash = [c for c in added if c in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}; rename them first")
    model_ref = _model_ref(model)
    fields = [
        StructField("themes", ArrayType(StringType(), containsNull=False)),
        StructField("scores", MapType(StringType(), DoubleType(), valueContainsNull=False)),
        StructField("audience", StringType()),
        StructField("error", StringType()),
    ]
    if evidence:
        span = StructType(
            [
                StructField("theme", StringType()),
                StructField("text", StringType()),
                StructField("start", IntegerType()),
                StructField("end", IntegerType()),
            ]
        )
        fields.append(StructField("evidence", ArrayType(span)))
    schema = StructType(df.schema.fields + fields)
    df.sparkSession.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    return df.mapInPandas(
        lambda it: _classify_batches(it, text_col, model_ref, evidence, audience, audience_col), schema
    )


def _input_format(path: Path) -> str:
    """csv for a .csv file or a folder of them; parquet otherwise."""
    if path.is_dir():
        names = [p.name for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", "."))]
        return "csv" if names and all(n.lower().endswith(".csv") for n in names) else "parquet"
    return "csv" if path.suffix.lower() == ".csv" else "parquet"


def _spread(df: DataFrame) -> DataFrame:
    """Give a file read at least one partition per core, keeping row order.

    A single Parquet row group or a multi-line CSV file reads as one partition, which
    would classify on one core: range-partition on the read order and sort within each.
    """
    from pyspark.sql import functions as F

    cores = df.sparkSession.sparkContext.defaultParallelism
    if df.rdd.getNumPartitions() >= cores:
        return df
    row = "__themesift_row"
    return (
        df.withColumn(row, F.monotonically_increasing_id())
        .repartitionByRange(cores, row)
        .sortWithinPartitions(row)
        .drop(row)
    )


def _session(master: str) -> tuple[SparkSession, bool]:
    """The active session, or a new one (which the caller must stop) wired for themesift."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName("themesift")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.executorEnv.THEMESIFT_THREADS", os.environ.get("THEMESIFT_THREADS", "1"))
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True


def classify_path(
    input: str | Path,
    output: str | Path,
    *,
    master: str = "local[2]",
    text_col: str | None = None,
    model: str | Path | None = None,
    audience: str = "auto",
    audience_col: str | None = None,
) -> None:
    """Classify Parquet or CSV (file or folder) into a Parquet folder, or CSV when ``output``
    ends in .csv (then ``themes`` is ``;``-joined and ``scores`` a JSON object per row).

    Spark writes a folder of part files either way; an existing output is not overwritten.
    """
    src, dst = Path(input).expanduser(), Path(output).expanduser()
    if not src.exists():
        raise FileNotFoundError(f"input not found: {src}")
    if dst.exists():
        raise FileExistsError(f"output already exists: {dst} (remove it or choose another path)")
    model_ref = _model_ref(model)
    spark, owned = _session(master)
    try:
        fmt = _input_format(src)
        reader = spark.read.option("header", True).option("multiLine", True).option("escape", '"')
        df = reader.csv(str(src)) if fmt == "csv" else reader.parquet(str(src))
        out = classify_dataframe(
            _spread(df), text_col=text_col, model=model_ref, audience=audience, audience_col=audience_col
        )
        if dst.suffix.lower() == ".csv":
            from pyspark.sql import functions as F

            out = out.withColumn("themes", F.array_join("themes", ";")).withColumn("scores", F.to_json("scores"))
            out.write.option("header", True).option("escape", '"').csv(str(dst))
        else:
            out.write.parquet(str(dst))
    finally:
        if owned:
            spark.stop()
