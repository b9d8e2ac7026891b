"""``mltrail.data`` datasets and ``log_input``: digests, sources, schemas, profiles, search."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.exceptions import MltrailException


def test_from_pandas_schema_profile_digest_and_source():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]})
    dataset = mltrail.data.from_pandas(df, source="s3://bucket/penguins.csv", targets="c")
    assert dataset.name == "dataset"
    assert len(dataset.digest) == 8
    assert dataset.source_type == "s3"
    assert json.loads(dataset.source) == {"uri": "s3://bucket/penguins.csv"}
    assert dataset.schema == {
        "mlflow_colspec": [
            {"type": "long", "name": "a", "required": True},
            {"type": "double", "name": "b", "required": True},
            {"type": "string", "name": "c", "required": True},
        ]
    }
    assert dataset.profile == {"num_rows": 3, "num_elements": 9}
    same = mltrail.data.from_pandas(df.copy())
    changed = mltrail.data.from_pandas(df.assign(a=[1, 2, 4]))
    assert same.digest == dataset.digest  # content decides, not identity or source
    assert changed.digest != dataset.digest


def test_from_numpy_shapes_and_code_source():
    features = np.zeros((10, 3), dtype=np.float32)
    dataset = mltrail.data.from_numpy(features, targets=np.arange(10), name="train")
    assert dataset.name == "train"
    assert dataset.source_type == "code"
    assert "mlflow.source.name" in json.loads(dataset.source)["tags"]
    assert dataset.profile["features_shape"] == [10, 3]
    assert dataset.profile["targets_shape"] == [10]
    spec = json.loads(dataset.schema["mlflow_tensorspec"]["features"])
    assert spec == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]


def test_bad_input_is_one_clear_error():
    with pytest.raises(MltrailException, match="needs a pandas DataFrame"):
        mltrail.data.from_pandas([1, 2, 3])
    with pytest.raises(MltrailException, match="targets column 'nope'"):
        mltrail.data.from_pandas(pd.DataFrame({"a": [1]}), targets="nope")
    with mltrail.start_run(), pytest.raises(MltrailException, match="made by mltrail.data"):
        mltrail.log_input({"not": "a dataset"})


def test_log_input_records_context_and_runs_are_found_by_digest():
    df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2})
    dataset = mltrail.data.from_pandas(df, name="penguins")
    other = mltrail.data.from_numpy(np.ones((4, 2)), name="holdout")
    with mltrail.start_run() as first:
        mltrail.log_input(dataset, context="training", tags={"split": "train"})
    with mltrail.start_run():
        mltrail.log_inputs([other], contexts=["eval"])
    run = mltrail.get_run(first.info.run_id)
    (recorded,) = run.inputs.dataset_inputs
    assert recorded.dataset.digest == dataset.digest
    assert recorded.dataset.name == "penguins"
    assert {(t.key, t.value) for t in recorded.tags} == {
        ("mlflow.data.context", "training"),
        ("split", "train"),
    }
    found = mltrail.search_runs(
        filter_string=f"dataset.digest = '{dataset.digest}'", output_format="list"
    )
    assert [r.info.run_id for r in found] == [first.info.run_id]


@pytest.mark.slow
def test_from_spark_schema_without_collecting(tmp_path):
    pyspark = pytest.importorskip("pyspark.sql")
    spark = (
        pyspark.SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    try:
        sdf = spark.createDataFrame([(1, 0.5, "a"), (2, 1.5, "b")], ["id", "score", "label"])
        dataset = mltrail.data.from_spark(sdf, path=str(tmp_path / "table"), targets="label")
        assert dataset.source_type == "local"
        assert [c["type"] for c in dataset.schema["mlflow_colspec"]] == ["long", "double", "string"]
        assert dataset.digest == mltrail.data.from_spark(sdf).digest
        with mltrail.start_run() as run:
            mltrail.log_input(dataset, context="training")
        assert mltrail.get_run(run.info.run_id).inputs.dataset_inputs[0].dataset.name == "dataset"
    finally:
        spark.stop()
