"""``spark_udf``: any pyfunc model applied to a Spark DataFrame, in parallel on the executors.

The model is downloaded once on the driver; on a local master the executors read that copy,
elsewhere it is shipped with ``SparkContext.addFile``. Each executor loads it once per batch
iterator (a pandas UDF over Arrow batches) and scores pandas frames built from the columns
given, named after the signature's inputs when the UDF is called with plain columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from mltrail.exceptions import InvalidParameter

_SCALAR_TYPES = {
    "int": "IntegerType",
    "integer": "IntegerType",
    "long": "LongType",
    "bigint": "LongType",
    "float": "FloatType",
    "double": "DoubleType",
    "string": "StringType",
    "boolean": "BooleanType",
    "bool": "BooleanType",
}
_NUMPY_TO_SPARK = {
    "b": "BooleanType",
    "i": "LongType",
    "u": "LongType",
    "f": "DoubleType",
    "U": "StringType",
    "O": "StringType",
}
_SCHEMA_TO_SPARK = {
    "boolean": "BooleanType",
    "integer": "IntegerType",
    "long": "LongType",
    "float": "FloatType",
    "double": "DoubleType",
    "string": "StringType",
    "binary": "BinaryType",
    "datetime": "TimestampType",
}


def _parse_result_type(result_type: Any) -> Any:
    from pyspark.sql import types as T

    if result_type is None:
        return None
    if isinstance(result_type, T.DataType):
        return result_type
    if not isinstance(result_type, str):
        raise InvalidParameter(
            f"result_type must be a Spark DataType or a DDL string, got {result_type!r}."
        )
    text = result_type.strip().lower()
    if text in _SCALAR_TYPES:
        return getattr(T, _SCALAR_TYPES[text])()
    try:
        return T._parse_datatype_string(result_type)
    except Exception as exc:  # noqa: BLE001 - Spark's own parser error, reported plainly
        raise InvalidParameter(f"Cannot read result_type {result_type!r}: {exc}") from None


def _default_result_type(model: Any) -> Any:
    """From the output schema, as MLflow does; ``double`` when there is none."""
    from pyspark.sql import types as T

    schema = model.metadata.get_output_schema()
    if schema is None or not schema.inputs:
        return T.DoubleType()
    spec = schema.inputs[0]
    if schema.is_tensor_spec():
        element = getattr(T, _NUMPY_TO_SPARK.get(spec.type.kind, "DoubleType"))()
        return T.ArrayType(element) if len(spec.shape) >= 1 else element
    if len(schema.inputs) == 1:
        name = getattr(spec.type, "value", "double")
        return getattr(T, _SCHEMA_TO_SPARK.get(name, "DoubleType"))()
    return T.DoubleType()


def _to_result(predictions: Any, result_type: Any, rows: int) -> Any:
    """A pandas Series (or DataFrame for a struct) shaped for ``result_type``."""
    import numpy as np
    import pandas as pd
    from pyspark.sql import types as T

    if isinstance(result_type, T.StructType):
        frame = predictions if isinstance(predictions, pd.DataFrame) else pd.DataFrame(predictions)
        missing = [f.name for f in result_type.fields if f.name not in frame.columns]
        if missing:
            raise InvalidParameter(
                f"The model's output has no columns {missing} for the struct result_type."
            )
        return frame[[f.name for f in result_type.fields]]
    if isinstance(predictions, pd.DataFrame):
        if isinstance(result_type, T.ArrayType):
            return pd.Series(list(predictions.to_numpy()))
        predictions = predictions.iloc[:, 0]
    values = np.asarray(predictions) if not isinstance(predictions, pd.Series) else predictions
    if isinstance(result_type, T.ArrayType):
        array = np.asarray(values)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        return pd.Series(list(array))
    series = pd.Series(np.asarray(values).reshape(rows, -1)[:, 0]) if rows else pd.Series([])
    if isinstance(result_type, T.StringType):
        return series.astype(str)
    if isinstance(result_type, T.BooleanType):
        return series.astype(bool)
    if isinstance(result_type, T.IntegerType | T.LongType):
        return series.astype("int64")
    if isinstance(result_type, T.FloatType | T.DoubleType):
        return series.astype("float64")
    return series


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: Any = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """A UDF scoring its columns with the model: ``df.withColumn("p", udf("a", "b"))``,
    ``udf(struct(...))``, or ``udf()`` to use the signature's column names."""
    import warnings

    from pyspark.sql.pandas.functions import PandasUDFType, pandas_udf

    warnings.filterwarnings("ignore", message=".*PandasUDFType.*")

    from mltrail.models.uri import download_model
    from mltrail.pyfunc.loading import load_model
    from mltrail.pyfunc.spark_env import EnvScorer, check_env_manager, env_python

    manager = check_env_manager(env_manager)
    local = download_model(model_uri)
    model = load_model(local, model_config=model_config)  # fail on the driver, not per task
    if manager == "uv":
        if model_config:
            raise InvalidParameter("spark_udf with env_manager='uv' takes no model_config.")
        env_python(local)  # built once here; the tasks find it in the cache
    result = _parse_result_type(result_type) or _default_result_type(model)
    schema = model.metadata.get_input_schema()
    input_names = (
        [str(n) for n in schema.input_names()]
        if schema is not None and schema.has_input_names()
        else None
    )
    master = spark.sparkContext.master or ""
    if master.startswith("local"):
        model_path, shipped = local, False
    else:
        spark.sparkContext.addFile(local, recursive=True)
        model_path, shipped = os.path.basename(os.path.normpath(local)), True
    env = dict(extra_env or {})

    def load() -> Any:
        os.environ.update(env)
        path = model_path
        if shipped:
            from pyspark import SparkFiles

            path = SparkFiles.get(model_path)
        return load_model(path, model_config=model_config, suppress_warnings=True)

    def frame_of(columns: tuple[Any, ...]) -> Any:
        import pandas as pd

        if len(columns) == 1 and isinstance(columns[0], pd.DataFrame):
            return columns[0]
        names = input_names if input_names and len(input_names) == len(columns) else None
        return pd.DataFrame(
            {
                (names[i] if names else i): col.reset_index(drop=True)
                for i, col in enumerate(columns)
            }
        )

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        if manager == "uv":
            yield from score_in_env(batches)
            return
        loaded = load()
        for batch in batches:
            columns = batch if isinstance(batch, tuple) else (batch,)
            frame = frame_of(columns)
            yield _to_result(loaded.predict(frame, params=params), result, len(frame))

    def score_in_env(batches: Iterator[Any]) -> Iterator[Any]:
        os.environ.update(env)
        path = model_path
        if shipped:
            from pyspark import SparkFiles

            path = SparkFiles.get(model_path)
        scorer = EnvScorer(env_python(path), path)
        try:
            for batch in batches:
                columns = batch if isinstance(batch, tuple) else (batch,)
                frame = frame_of(columns)
                yield _to_result(scorer.predict(frame, params), result, len(frame))
        finally:
            scorer.close()

    udf = pandas_udf(score, returnType=result, functionType=PandasUDFType.SCALAR_ITER)
    return _ModelUdf(udf, input_names)


class _ModelUdf:
    """The UDF, callable with columns, a struct, or nothing (the signature's columns)."""

    def __init__(self, udf: Any, input_names: list[str] | None) -> None:
        self.udf = udf
        self.input_names = input_names

    def __call__(self, *columns: Any) -> Any:
        if not columns:
            if not self.input_names:
                raise InvalidParameter(
                    "This model's signature names no input columns: call the UDF with columns."
                )
            from pyspark.sql.functions import col

            columns = tuple(col(n) for n in self.input_names)
        return self.udf(*columns)
