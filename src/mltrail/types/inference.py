"""Infer a ``Schema`` from example data, and a ``ParamSchema`` from example params, with
MLflow's rules (pandas frames give columns, numpy arrays give tensors, ...)."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from mltrail.exceptions import InvalidParameter
from mltrail.types.schema import (
    AnyType,
    Array,
    ColSpec,
    ColumnType,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

_KIND_TYPES = {"b": DataType.boolean, "M": DataType.datetime}


def _dtype_to_datatype(dtype: np.dtype[Any]) -> DataType | None:
    """The column type of a numpy dtype, or None for object/str that needs a look at values."""
    if dtype.kind in _KIND_TYPES:
        return _KIND_TYPES[dtype.kind]
    if dtype.kind in "iu":
        # Small ints (and uint8/16) fit in an int32; bigger ones need a long.
        if dtype.itemsize < 4 or (dtype.kind == "i" and dtype.itemsize == 4):
            return DataType.integer
        return DataType.long
    if dtype.kind == "f":
        return DataType.float if dtype.itemsize <= 4 else DataType.double
    if dtype.kind == "U":
        return DataType.string
    if dtype.kind == "S":
        return DataType.binary
    return None


def _value_type(value: Any) -> ColumnType | None:
    """The column type of one Python value; None for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return DataType.boolean
    if isinstance(value, int | np.integer):
        return (
            _dtype_to_datatype(np.asarray(value).dtype)
            if isinstance(value, np.integer)
            else DataType.long
        )
    if isinstance(value, float | np.floating):
        return (
            _dtype_to_datatype(np.asarray(value).dtype)
            if isinstance(value, np.floating)
            else DataType.double
        )
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes | bytearray):
        return DataType.binary
    if isinstance(value, _dt.datetime | _dt.date | np.datetime64):
        return DataType.datetime
    if isinstance(value, dict):
        return Object([_property(k, v) for k, v in value.items()])
    if isinstance(value, list | tuple | np.ndarray):
        return Array(_common_type(list(value)))
    raise InvalidParameter(f"Cannot infer a schema type for a value of type {type(value)!r}.")


def _property(name: Any, value: Any) -> Property:
    dtype = _value_type(value)
    return Property(str(name), dtype if dtype is not None else AnyType(), dtype is not None)


def _common_type(values: list[Any]) -> ColumnType:
    types = [t for t in (_value_type(v) for v in values) if t is not None]
    if not types:
        return AnyType()
    first = types[0]
    if all(t == first for t in types):
        return first
    numeric = {DataType.integer, DataType.long, DataType.float, DataType.double}
    if all(t in numeric for t in types):
        return DataType.double
    if all(isinstance(t, Object) for t in types):
        return _merge_objects(types)  # type: ignore[arg-type]
    raise InvalidParameter(f"Cannot infer one type for values of types {types}.")


def _merge_objects(objects: list[Object]) -> Object:
    """Fields found in some rows only become optional."""
    seen: dict[str, Property] = {}
    counts: dict[str, int] = {}
    for obj in objects:
        for prop in obj.properties:
            seen.setdefault(prop.name, prop)
            counts[prop.name] = counts.get(prop.name, 0) + 1
    return Object(
        [Property(n, p.dtype, p.required and counts[n] == len(objects)) for n, p in seen.items()]
    )


def _series_spec(series: Any, name: str | None) -> ColSpec:
    import pandas as pd

    dtype = series.dtype
    has_missing = bool(series.isna().any())
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        dtype, pd.StringDtype
    ):
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        base = _dtype_to_datatype(np.dtype(numpy_dtype)) if numpy_dtype is not None else None
        if base is not None:
            return ColSpec(base, name, not has_missing)
    if isinstance(dtype, pd.StringDtype):
        return ColSpec(DataType.string, name, not has_missing)
    base = _dtype_to_datatype(np.dtype(dtype))
    if base is not None:
        return ColSpec(base, name, not has_missing)
    values = series.tolist()
    col_type = _common_type(values)
    present = [v for v in values if _value_type(v) is not None]
    return ColSpec(col_type, name, len(present) == len(values) and bool(values))


def _frame_schema(frame: Any) -> Schema:
    return Schema(_series_spec(frame[c], str(c)) for c in frame.columns)


def _tensor_spec(array: np.ndarray[Any, Any], name: str | None = None) -> TensorSpec:
    dtype = array.dtype
    if dtype.kind == "U":
        dtype = np.dtype(str)
    shape = (-1, *array.shape[1:]) if array.ndim else (-1,)
    return TensorSpec(dtype, shape, name)


def _records_schema(rows: list[dict[str, Any]]) -> Schema:
    names: list[str] = []
    for row in rows:
        for key in row:
            if key not in names:
                names.append(key)
    specs = []
    for name in names:
        values = [row.get(name) for row in rows]
        present = [name in row and _value_type(row[name]) is not None for row in rows]
        specs.append(ColSpec(_common_type(values), name, all(present)))
    return Schema(specs)


def infer_schema(data: Any) -> Schema:
    """The schema of ``data``: a pandas DataFrame or Series, a numpy array, a dict, a list,
    a scalar, or a Spark DataFrame."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return _frame_schema(data)
    if isinstance(data, pd.Series):
        return Schema([_series_spec(data, None if data.name is None else str(data.name))])
    if isinstance(data, np.ndarray):
        return Schema([_tensor_spec(data)])
    if _is_spark_frame(data):
        return _spark_schema(data)
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema(_tensor_spec(v, str(k)) for k, v in data.items())
        specs = []
        for key, value in data.items():
            dtype = _value_type(value)
            specs.append(
                ColSpec(dtype if dtype is not None else AnyType(), str(key), dtype is not None)
            )
        return Schema(specs)
    if isinstance(data, list | tuple):
        items = list(data)
        if items and all(isinstance(r, dict) for r in items):
            return _records_schema(items)
        return Schema([ColSpec(_common_type(items))])
    if data is None:
        raise InvalidParameter("Cannot infer a schema from None.")
    dtype = _value_type(data)
    return Schema([ColSpec(dtype if dtype is not None else AnyType())])


def _is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.sql") and hasattr(data, "schema")


_SPARK_TYPES = {
    "BooleanType": DataType.boolean,
    "ByteType": DataType.integer,
    "ShortType": DataType.integer,
    "IntegerType": DataType.integer,
    "LongType": DataType.long,
    "FloatType": DataType.float,
    "DoubleType": DataType.double,
    "StringType": DataType.string,
    "BinaryType": DataType.binary,
    "DateType": DataType.datetime,
    "TimestampType": DataType.datetime,
    "TimestampNTZType": DataType.datetime,
}


def _spark_type(dtype: Any) -> ColumnType:
    name = type(dtype).__name__
    if name in _SPARK_TYPES:
        return _SPARK_TYPES[name]
    if name == "ArrayType":
        return Array(_spark_type(dtype.elementType))
    if name == "StructType":
        return Object(
            [Property(f.name, _spark_type(f.dataType), not f.nullable) for f in dtype.fields]
        )
    if name == "VectorUDT":
        return Array(DataType.double)
    raise InvalidParameter(f"Cannot infer a schema type for the Spark type {dtype}.")


def _spark_schema(frame: Any) -> Schema:
    return Schema(ColSpec(_spark_type(f.dataType), f.name) for f in frame.schema.fields)


def _param_spec(name: str, value: Any) -> ParamSpec:
    if value is None:
        raise InvalidParameter("Expected parameters to be 1D array or scalar, got NoneType")
    if isinstance(value, dict):
        obj = _value_type(value)
        assert isinstance(obj, Object)
        return ParamSpec(name, obj, value)
    if isinstance(value, list | tuple | np.ndarray):
        items = list(value)
        if any(isinstance(v, list | tuple | np.ndarray) for v in items):
            raise InvalidParameter("Expected parameters to be 1D array or scalar, got 2D array")
        item_type = _common_type(items)
        if not isinstance(item_type, DataType):
            raise InvalidParameter(f"Cannot infer a type for the list parameter {name!r}.")
        return ParamSpec(name, item_type, items, (-1,))
    dtype = _value_type(value)
    if not isinstance(dtype, DataType):
        raise InvalidParameter(f"Cannot infer a type for the parameter {name!r}.")
    return ParamSpec(name, dtype, value)


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    if not isinstance(params, dict):
        raise InvalidParameter(
            f"Parameters must be a dictionary. Got type {type(params).__name__!r}."
        )
    errors = []
    specs = []
    for name, value in params.items():
        try:
            specs.append(_param_spec(name, value))
        except InvalidParameter as exc:
            errors.append(exc.message)
    if errors:
        raise InvalidParameter(f"Failed to infer schema for parameters: {errors}")
    return ParamSchema(specs)
