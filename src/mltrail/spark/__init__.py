"""``mltrail.spark``: ``pyspark.ml`` models and pipelines (MLflow's ``mlflow.spark``).

The model is written in Spark's own format under ``sparkml/`` (a ``PipelineModel``; a single
fitted model is wrapped in a one-stage pipeline), with MLflow's ``MLmodel`` entries, so MLflow
loads it too. As in MLflow, ``log_model`` puts the files into the run's artifacts and the
model URI is ``runs:/<run_id>/<artifact_path>``. The pyfunc form scores pandas input on a
local Spark session. pyspark is imported only when used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.models import model_logging
from mltrail.models.environment import infer_requirements
from mltrail.models.model import Model, ModelInfo
from mltrail.models.saving import copy_code_paths, finish_model_dir, prepare_model_dir
from mltrail.models.signature import ModelSignature
from mltrail.pyfunc.flavor import add_to_model

FLAVOR_NAME = "spark"
SPARK_MODEL_DIR = "sparkml"


def _pyspark() -> Any:
    try:
        import pyspark
    except ImportError:
        raise MltrailException(
            "This needs pyspark: pip install 'mltrail[spark]' (and a Java runtime).",
            error_code="RESOURCE_DOES_NOT_EXIST",
        ) from None
    return pyspark


def _active_or_local_session() -> Any:
    """The active Spark session, or a small local one (workers run this Python)."""
    import sys

    _pyspark()
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        return session
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master("local[1]")
        .appName("mltrail-pyfunc")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def _as_pipeline(spark_model: Any) -> Any:
    from pyspark.ml import Model as SparkModel
    from pyspark.ml import PipelineModel

    if isinstance(spark_model, PipelineModel):
        return spark_model
    if isinstance(spark_model, SparkModel):
        return PipelineModel(stages=[spark_model])
    raise InvalidParameter(
        "spark_model must be a fitted pyspark.ml Model or PipelineModel, got "
        f"{type(spark_model).__name__} (fit the estimator first)."
    )


def save_model(
    spark_model: Any,
    path: str,
    mlflow_model: Model | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    dfs_tmpdir: str | None = None,
    sample_input: Any = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    **_ignored: Any,
) -> None:
    """Save a fitted ``pyspark.ml`` model or pipeline as a model directory."""
    pyspark = _pyspark()
    pipeline = _as_pipeline(spark_model)
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    target = os.path.join(path, SPARK_MODEL_DIR)
    # Spark writes through its own file system layer: give it an absolute file:// URI.
    pipeline.write().overwrite().save("file://" + os.path.abspath(target))
    add_to_model(mlflow_model, loader_module="mlflow.spark", data=SPARK_MODEL_DIR, code=code)
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        pyspark_version=pyspark.__version__,
        model_data=SPARK_MODEL_DIR,
        model_class=f"{type(pipeline).__module__}.{type(pipeline).__name__}",
        code=code,
    )
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=infer_requirements([], ["pyspark", "pyarrow", "numpy", "pandas"]),
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=_SparkModelWrapper(pipeline).predict if input_example is not None else None,
    )


def log_model(
    spark_model: Any,
    artifact_path: str,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    dfs_tmpdir: str | None = None,
    sample_input: Any = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a Spark ML model into the active run's artifacts at ``artifact_path``."""
    return model_logging.log_model_to_run(
        save_model,
        artifact_path,
        registered_model_name=registered_model_name,
        spark_model=spark_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )


def _load_spark_dir(path: str) -> Any:
    _pyspark()
    from pyspark.ml import PipelineModel

    _active_or_local_session()
    if not os.path.isdir(path):
        raise NotFound(f"No Spark model at {path!r}.")
    # Spark reads through its own file system layer, which must see a stable local copy.
    return PipelineModel.load("file://" + os.path.abspath(path))


def load_model(model_uri: str, dfs_tmpdir: str | None = None, dst_path: str | None = None) -> Any:
    """The ``PipelineModel`` saved at ``model_uri`` (path or model URI)."""
    from mltrail.models.uri import download_model

    local = download_model(model_uri, dst_path)
    conf = Model.load(local).flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFound(f'Model does not have the "{FLAVOR_NAME}" flavor')
    return _load_spark_dir(os.path.join(local, conf.get("model_data", SPARK_MODEL_DIR)))


class _SparkModelWrapper:
    """The pyfunc face of a pipeline: pandas in, the ``prediction`` column out."""

    def __init__(self, pipeline: Any, spark: Any = None) -> None:
        self.pipeline = pipeline
        self.spark = spark

    def get_raw_model(self) -> Any:
        return self.pipeline

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        spark = self.spark or _active_or_local_session()
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        scored = self.pipeline.transform(spark.createDataFrame(frame))
        if "prediction" not in scored.columns:
            raise InvalidParameter("The Spark model's output has no 'prediction' column.")
        return scored.select("prediction").toPandas()["prediction"].to_numpy()


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc loader (``loader_module: mlflow.spark``); ``path`` is ``<model>/sparkml``.
    A copy is loaded, so the model directory may be removed while the session lives."""
    copy = tempfile.mkdtemp(prefix="mltrail-sparkml-")
    local = os.path.join(copy, SPARK_MODEL_DIR)
    shutil.copytree(path, local)
    return _SparkModelWrapper(_load_spark_dir(local))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log the data sources Spark reads automatically."""
    from mltrail.autologging.spark import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]
