"""Spark datasource autologging on a real local[2] session with tiny files: the sources read
become MLflow's run tag ``sparkDatasourceInfo``."""

from __future__ import annotations

import os
import sys

import pytest

import mltrail

pytest.importorskip("pyspark")

TAG = "sparkDatasourceInfo"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mltrail-spark-autolog")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The same three rows as parquet, csv and json files, written without Spark (a Spark
    write is a job; these tests are about reads)."""
    import pandas as pd

    root = tmp_path_factory.mktemp("sources")
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 1.5, 2.5], "label": ["a", "b", "a"]})
    paths = {fmt: str(root / f"rows.{fmt}") for fmt in ("parquet", "csv", "json")}
    frame.to_parquet(paths["parquet"])
    frame.to_csv(paths["csv"], index=False)
    frame.to_json(paths["json"], orient="records", lines=True)
    return paths


def _tag(client, run_id: str) -> str | None:
    return client.get_run(run_id).data.tags.get(TAG)


def test_sources_read_in_a_run_are_tagged_once_each(spark, sources, client):
    mltrail.spark.autolog()
    with mltrail.start_run() as run:
        assert spark.read.parquet(sources["parquet"]).count() == 3
        spark.read.format("csv").option("header", True).load(sources["csv"])
        spark.read.json(sources["json"])
        spark.read.parquet(sources["parquet"])  # read again: still one line
        spark.read.format("parquet").option("versionAsOf", 0).load(sources["parquet"])
    assert _tag(client, run.info.run_id).splitlines() == [
        f"path={sources['parquet']},format=parquet",
        f"path={sources['csv']},format=csv",
        f"path={sources['json']},format=json",
        f"path={sources['parquet']},version=0,format=parquet",
    ]

    # As MLflow's context provider: a run started later gets the sources read so far.
    with mltrail.start_run() as later:
        pass
    assert _tag(client, later.info.run_id) == _tag(client, run.info.run_id)


def test_failed_reads_and_disabled_autolog_record_nothing(spark, sources, client, tmp_path):
    from pyspark.errors import AnalysisException

    mltrail.spark.autolog()
    with mltrail.start_run() as run, pytest.raises(AnalysisException):
        spark.read.parquet(str(tmp_path / "missing"))
    assert _tag(client, run.info.run_id) is None

    mltrail.spark.autolog(disable=True)
    with mltrail.start_run() as off:
        spark.read.parquet(sources["parquet"])
    assert _tag(client, off.info.run_id) is None


def test_autolog_for_everything_turns_it_on(spark, sources, client):
    mltrail.autolog(exclude_flavors=["sklearn", "pytorch", "xgboost", "lightgbm"])
    with mltrail.start_run() as run:
        spark.read.json(sources["json"])
    assert _tag(client, run.info.run_id) == f"path={sources['json']},format=json"
