"""The Spark flavor and ``spark_udf`` on a real local[2] session (one per module, tiny data):
pyspark.ml pipelines saved in Spark's format and loaded back (also by MLflow), pyfunc scoring
of pandas input, any pyfunc model applied to a Spark DataFrame, and the seeds' pattern of
models logged from pandas UDF workers into nested runs of the driver's run."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.models import infer_signature

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mltrail-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def penguins():
    rng = np.random.default_rng(1)
    rows = 40
    frame = pd.DataFrame(
        {
            "bill": rng.normal(40, 5, rows),
            "flipper": rng.normal(200, 10, rows),
            "island": ["Biscoe", "Dream"] * (rows // 2),
        }
    )
    frame["label"] = (frame["bill"] > 40).astype(float)
    return frame


def _pipeline(spark, penguins):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    data = spark.createDataFrame(penguins[["bill", "flipper", "label"]])
    stages = [
        VectorAssembler(inputCols=["bill", "flipper"], outputCol="features"),
        LogisticRegression(maxIter=5),
    ]
    return Pipeline(stages=stages).fit(data), data


def test_spark_log_model_load_and_pyfunc(spark, penguins):
    model, data = _pipeline(spark, penguins)
    want = [r.prediction for r in model.transform(data).select("prediction").collect()]
    with mltrail.start_run() as run:
        info = mltrail.spark.log_model(
            model,
            "logistic_regression_pyspark",
            input_example=penguins[["bill", "flipper"]].head(3),
        )
    uri = f"runs:/{run.info.run_id}/logistic_regression_pyspark"
    assert info.model_uri == uri
    tags = mltrail.get_run(run.info.run_id).data.tags
    assert "mlflow.log-model.history" in tags
    loaded = mltrail.spark.load_model(uri)
    got = [r.prediction for r in loaded.transform(data).select("prediction").collect()]
    assert got == want
    pyfunc = mltrail.pyfunc.load_model(uri)
    assert pyfunc.predict(penguins[["bill", "flipper"]]).tolist() == want
    assert pyfunc.metadata.signature.inputs.input_names() == ["bill", "flipper"]


def test_single_model_is_saved_as_a_pipeline_and_mlflow_loads_it(spark, penguins, tmp_path):
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    data = VectorAssembler(inputCols=["bill", "flipper"], outputCol="features").transform(
        spark.createDataFrame(penguins[["bill", "flipper", "label"]])
    )
    lr = LogisticRegression(maxIter=5).fit(data)
    mltrail.spark.save_model(lr, tmp_path / "lr")
    import yaml

    doc = yaml.safe_load((tmp_path / "lr" / "MLmodel").read_text())
    assert doc["flavors"]["spark"]["model_class"] == "pyspark.ml.pipeline.PipelineModel"
    assert doc["flavors"]["python_function"]["loader_module"] == "mlflow.spark"
    import mlflow.spark

    theirs = mlflow.spark.load_model(str(tmp_path / "lr"))
    assert theirs.transform(data).count() == len(penguins)
    with pytest.raises(mltrail.MltrailException, match="fitted"):
        mltrail.spark.save_model(LogisticRegression(), tmp_path / "unfitted")


def test_spark_udf_applies_a_sklearn_model(spark, penguins, tmp_path):
    from pyspark.sql.functions import struct
    from sklearn.linear_model import LogisticRegression

    features = penguins[["bill", "flipper"]]
    clf = LogisticRegression().fit(features, penguins["label"].astype(int))
    mltrail.sklearn.save_model(
        clf, tmp_path / "clf", signature=infer_signature(features, clf.predict(features))
    )
    want = clf.predict(features).tolist()
    frame = spark.createDataFrame(features)
    uri = str(tmp_path / "clf")
    by_cols = mltrail.pyfunc.spark_udf(spark, uri, result_type="long")
    out = frame.withColumn("p", by_cols("bill", "flipper")).select("p").toPandas()
    assert out["p"].tolist() == want
    by_struct = mltrail.pyfunc.spark_udf(spark, uri, result_type="double")
    out = frame.withColumn("p", by_struct(struct("bill", "flipper"))).toPandas()
    assert out["p"].tolist() == [float(v) for v in want]
    default = mltrail.pyfunc.spark_udf(spark, uri)  # array<bigint> from the tensor output
    out = frame.withColumn("p", default()).toPandas()
    assert [list(v) for v in out["p"]] == [[v] for v in want]
    as_text = mltrail.pyfunc.spark_udf(spark, uri, result_type="string")
    out = frame.withColumn("p", as_text()).toPandas()
    assert out["p"].tolist() == [str(v) for v in want]
    for manager in ("conda", "virtualenv"):
        with pytest.raises(mltrail.MltrailException, match="Use 'local' .* or 'uv'"):
            mltrail.pyfunc.spark_udf(spark, uri, env_manager=manager)


def test_spark_udf_scores_in_the_models_uv_environment(spark, penguins, tmp_path):
    """env_manager="uv": the model's python_env.yaml built (cached) by uv; each task scores
    through a server run by that environment's Python."""
    import shutil
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression

    if shutil.which("uv") is None and not (Path(sys.executable).parent / "uv").exists():
        pytest.skip("uv is not installed")
    features = penguins[["bill", "flipper"]]
    clf = LogisticRegression().fit(features, penguins["label"].astype(int))
    mltrail.sklearn.save_model(
        clf, tmp_path / "clf", signature=infer_signature(features, clf.predict(features))
    )
    frame = spark.createDataFrame(features).repartition(2)
    udf = mltrail.pyfunc.spark_udf(spark, str(tmp_path / "clf"), "long", env_manager="uv")
    out = frame.withColumn("p", udf()).toPandas()
    want = clf.predict(out[["bill", "flipper"]]).tolist()
    assert out["p"].tolist() == want
    from mltrail.pyfunc.spark_env import env_python

    python = env_python(str(tmp_path / "clf"))  # from the cache the UDF filled
    assert python != sys.executable and "/envs/uv-" in python


def test_models_logged_inside_pandas_udf_workers(spark, penguins, tmp_path, monkeypatch):
    """The seed's pattern: a worker resumes the driver's run by id and logs nested runs,
    each with a DBSCAN model, from applyInPandas."""
    from pyspark.sql import types as T
    from pyspark.sql.functions import lit

    db = f"sqlite:///{tmp_path / 'udf.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", db)
    import mltrail as mlflow

    mlflow.set_experiment("penguins")
    with mlflow.start_run() as parent:
        pass
    run_id = parent.info.run_id

    def clustering(pdf: pd.DataFrame) -> pd.DataFrame:
        from sklearn.cluster import DBSCAN

        import mltrail as mlflow

        os.environ["MLFLOW_TRACKING_URI"] = db
        island = pdf["island"].iloc[0]
        paths = []
        for eps in (0.5, 1.0):
            with mlflow.start_run(run_id=run_id):  # noqa: SIM117 - as the seed writes it
                with mlflow.start_run(run_name=f"{island}-eps{eps}", nested=True) as run:
                    mlflow.log_param("eps", eps)
                    model = DBSCAN(eps=eps, min_samples=3).fit(pdf[["bill", "flipper"]].values)
                    mlflow.sklearn.log_model(model, f"{island}-{eps}")
                    mlflow.log_metric("n_clusters", len(set(model.labels_[model.labels_ >= 0])))
                    paths.append(f"runs:/{run.info.run_id}/{island}-{eps}")
        return pd.DataFrame({"island": [island] * len(paths), "model_path": paths})

    schema = T.StructType(
        [T.StructField("island", T.StringType()), T.StructField("model_path", T.StringType())]
    )
    sdf = spark.createDataFrame(penguins).withColumn("run_id", lit(run_id))
    result = sdf.groupBy("island").applyInPandas(clustering, schema).toPandas()
    assert sorted(result["island"].unique()) == ["Biscoe", "Dream"]
    mltrail.set_tracking_uri(db)
    try:
        children = mltrail.search_runs(
            [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'"
        )
        assert len(children) == 4
        for uri in result["model_path"]:
            model = mltrail.sklearn.load_model(uri)
            assert type(model).__name__ == "DBSCAN"
    finally:
        mltrail.set_tracking_uri(None)
