"""Check (and safely convert) prediction input against a model's signature before the model
runs, so a bad request fails with a message that names the column and the expected type.

Safe conversions are those that cannot change a value: a wider int or float of the same kind,
an int32 into a double, an int64 into a double when every value fits in a double exactly.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mltrail.exceptions import InvalidParameter
from mltrail.types.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)

_log = logging.getLogger(__name__)
_OBJECT = np.dtype(object)
_EXACT_FLOAT_LIMIT = 2**53  # every int up to this magnitude is exact in a float64


class SchemaEnforcementError(InvalidParameter):
    """Input that does not match the signature (MLflow's SCHEMA_ENFORCEMENT_FAILED)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_class="SCHEMA_ENFORCEMENT_FAILED", sqlstate="KAM01")


class _Mismatch(Exception):
    """Internal: one detail sentence, wrapped by ``enforce_schema`` into the full message."""


def _short_repr(data: Any, limit: int = 300) -> str:
    text = repr(data)
    return text if len(text) <= limit else text[:limit] + "..."


def enforce_schema(data: Any, schema: Schema) -> Any:
    """``data`` converted to match ``schema``; ``SchemaEnforcementError`` if it cannot be."""
    try:
        if schema.is_tensor_spec():
            return _enforce_tensors(data, schema)
        return _enforce_columns(data, schema)
    except _Mismatch as exc:
        raise SchemaEnforcementError(
            f"Failed to enforce schema of data '{_short_repr(data)}' with schema "
            f"'{schema!r}'. Error: {exc}"
        ) from None


# -- column-based ------------------------------------------------------------------------
def _as_frame(data: Any, schema: Schema) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, dict):
        values = list(data.values())
        if all(np.isscalar(v) or v is None or isinstance(v, dict) for v in values):
            return pd.DataFrame([data])
        try:
            return pd.DataFrame(data)
        except ValueError:
            return pd.DataFrame([data])
    if isinstance(data, np.ndarray):
        if data.ndim == 1 and len(schema.inputs) == 1:
            return pd.DataFrame({0: data})
        if data.ndim > 2:
            raise _Mismatch(f"Expected a 1-D or 2-D array, got shape {data.shape}.")
        return pd.DataFrame(data)
    if isinstance(data, list | tuple):
        items = list(data)
        if items and all(isinstance(r, dict) for r in items):
            return pd.DataFrame(items)
        if len(schema.inputs) == 1:
            return pd.DataFrame({0: items})
        return pd.DataFrame(items)
    if np.isscalar(data):
        return pd.DataFrame({0: [data]})
    raise _Mismatch(f"Expected a DataFrame, dict, list or array, got {type(data).__name__}.")


def _enforce_columns(data: Any, schema: Schema) -> Any:
    if _is_spark_frame(data):
        return data  # Spark frames are checked by Spark's own types
    frame = _as_frame(data, schema)
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if _already_conforms(frame, specs):
        return frame  # the common case when serving: parsed straight into the right types
    if schema.has_input_names():
        names = [str(c) for c in frame.columns]
        if names != list(frame.columns):
            frame = frame.set_axis(names, axis=1)
        required = [s.name for s in specs if s.required]
        missing = [n for n in required if n not in names]
        expected = {s.name for s in specs}
        extra = [n for n in names if n not in expected]
        if missing:
            note = f" Note that there were extra inputs: {extra}." if extra else ""
            raise _Mismatch(f"Model is missing inputs {missing}.{note}")
        if extra:
            _log.warning(
                "Found extra inputs in the model input that are not defined in the model "
                "signature: %s. These inputs will be ignored.",
                extra,
            )
        present = [s for s in specs if s.name in names]
        return _frame_of({s.name: _convert_column(frame[s.name], s) for s in present}, frame)
    if len(frame.columns) != len(specs):
        raise _Mismatch(
            f"Model expects {len(specs)} unnamed input(s) but got {len(frame.columns)} column(s)."
        )
    columns = list(frame.columns)
    return _frame_of(
        {col: _convert_column(frame[col], spec) for col, spec in zip(columns, specs, strict=True)},
        frame,
    )


def _frame_of(columns: dict[Any, Any], like: Any) -> Any:
    """One new frame from converted columns (no column-by-column assignment)."""
    import pandas as pd

    return pd.DataFrame(columns, index=like.index)


def _already_conforms(frame: Any, specs: list[ColSpec]) -> bool:
    """Named numeric/boolean columns, exactly the schema's, in its order and types."""
    if len(frame.columns) != len(specs) or any(s.name is None for s in specs):
        return False
    dtypes = frame.dtypes
    for column, spec, dtype in zip(frame.columns, specs, dtypes, strict=True):
        if column != spec.name or not isinstance(spec.type, DataType):
            return False
        if spec.type in (DataType.string, DataType.binary, DataType.datetime):
            return False
        if dtype != spec.type.to_numpy():
            return False
    return True


def _is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.sql")


def _column_label(spec: ColSpec, series: Any) -> str:
    return str(spec.name if spec.name is not None else series.name)


def _convert_column(series: Any, spec: ColSpec) -> Any:
    if isinstance(spec.type, AnyType):
        return series
    if not spec.required and series.isna().all():
        return series
    if isinstance(spec.type, Array | Object | Map):
        _check_composite(series, spec)
        return series
    return _convert_scalar_column(series, spec.type, _column_label(spec, series))


def _check_composite(series: Any, spec: ColSpec) -> None:
    expected = {Array: (list, tuple, np.ndarray), Object: (dict,), Map: (dict,)}
    kinds = next(v for k, v in expected.items() if isinstance(spec.type, k))
    for value in series:
        if value is None and not spec.required:
            continue
        if not isinstance(value, kinds):
            raise _Mismatch(
                f"Incompatible input types for column {_column_label(spec, series)}. "
                f"Expected {spec.type!r}, got a value of type {type(value).__name__}."
            )


def _convert_scalar_column(series: Any, target: DataType, label: str) -> Any:
    import pandas as pd

    dtype = series.dtype
    numpy_target = target.to_numpy()

    def refuse(hint: str = "") -> _Mismatch:
        return _Mismatch(
            f"Incompatible input types for column {label}. Can not safely convert "
            f"{dtype} to {_target_name(target)}.{hint}"
        )

    if target in (DataType.string, DataType.binary):
        if isinstance(dtype, pd.StringDtype) or dtype == _OBJECT:
            wanted = str if target == DataType.string else (bytes, bytearray)
            if all(v is None or isinstance(v, wanted) for v in series.dropna()):
                return series
        raise refuse()
    if target == DataType.datetime:
        if dtype.kind == "M":
            return series.astype("datetime64[ns]")
        if dtype == _OBJECT:
            try:
                return pd.to_datetime(series)
            except (ValueError, TypeError):
                raise refuse() from None
        raise refuse()
    if target == DataType.boolean:
        if dtype.kind == "b" or (dtype == _OBJECT and all(isinstance(v, bool) for v in series)):
            return series.astype(bool)
        raise refuse()
    # Numeric targets.
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and hasattr(dtype, "numpy_dtype"):
        if series.isna().any():
            raise refuse(_MISSING_HINT)
        series = series.astype(dtype.numpy_dtype)
        dtype = series.dtype
    if dtype == _OBJECT:
        import decimal

        if all(isinstance(v, decimal.Decimal) for v in series) and numpy_target.kind == "f":
            return series.astype(numpy_target)
        raise refuse()
    if dtype.kind not in "biuf":
        raise refuse()
    if dtype.kind == numpy_target.kind and dtype.itemsize <= numpy_target.itemsize:
        return series.astype(numpy_target)
    if dtype.kind == "u" and numpy_target.kind == "i" and numpy_target.itemsize > dtype.itemsize:
        return series.astype(numpy_target)
    if dtype.kind in "iub" and numpy_target.kind == "f":
        if dtype.itemsize < numpy_target.itemsize or _ints_fit(series, numpy_target):
            return series.astype(numpy_target)
        raise refuse()
    if dtype.kind == "f" and numpy_target.kind in "iu":
        values = series.to_numpy()
        if np.isnan(values).any() and np.all(np.isnan(values) | (values == np.round(values))):
            raise refuse(_MISSING_HINT)
    raise refuse()


_MISSING_HINT = (
    " Hint: the type mismatch is likely caused by missing values. Integer columns in Python "
    "can not represent missing values and are therefore encoded as floats; declare such "
    "columns as doubles in the signature."
)


def _ints_fit(series: Any, target: np.dtype[Any]) -> bool:
    limit = _EXACT_FLOAT_LIMIT if target.itemsize >= 8 else 2**24
    values = series.to_numpy()
    return bool(values.size == 0 or np.abs(values.astype(np.float64)).max() <= limit)


def _target_name(target: DataType) -> str:
    if target == DataType.string:
        return "<U0"
    return str(target.to_numpy())


# -- tensor-based ------------------------------------------------------------------------
def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {c: data[c].to_numpy() for c in data.columns}
        if not isinstance(data, dict):
            raise _Mismatch(
                "This model has a signature with named tensors: give a dict of name to "
                f"array, or a DataFrame; got {type(data).__name__}."
            )
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise _Mismatch(f"Model is missing inputs {missing}.")
        return {s.name: _check_tensor(np.asarray(data[s.name]), s) for s in specs}
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        return _frame_to_tensor(data, spec)
    if isinstance(data, list):
        raise _Mismatch(
            "This model contains a tensor-based model signature with no input names, which "
            "suggests a numpy array input or a pandas dataframe input with proper column "
            f"values, but an input of type {type(data)} was found."
        )
    if not isinstance(data, np.ndarray):
        raise _Mismatch(f"Expected a numpy array, got {type(data).__name__}.")
    return _check_tensor(data, spec)


def _frame_to_tensor(frame: Any, spec: TensorSpec) -> np.ndarray[Any, Any]:
    n_cols = len(frame.columns)
    shape = spec.shape
    if n_cols == 1 and (len(shape) == 1 or (len(shape) == 2 and shape[1] in (1, -1))):
        array = frame.iloc[:, 0].to_numpy()
        if len(shape) == 2:
            array = array.reshape(-1, 1)
    else:
        if len(shape) != 2 or shape[1] not in (-1, n_cols):
            raise _Mismatch(f"Shape of input {frame.shape} does not match expected shape {shape}.")
        array = frame.to_numpy()
    if spec.type != np.dtype(object):
        try:
            array = array.astype(spec.type)
        except (ValueError, TypeError) as exc:
            raise _Mismatch(f"Can not convert the input to {spec.type}: {exc}") from None
    return _check_tensor(array, spec)


def _check_tensor(array: np.ndarray[Any, Any], spec: TensorSpec) -> np.ndarray[Any, Any]:
    if spec.type == np.dtype(object) and spec.shape == (-1,):
        return array
    shape = spec.shape
    if array.ndim != len(shape) or any(
        want != -1 and got != want for got, want in zip(array.shape, shape, strict=False)
    ):
        raise _Mismatch(f"Shape of input {array.shape} does not match expected shape {shape}.")
    if spec.type.kind == "U" and array.dtype.kind in "UO":
        return array
    if array.dtype != spec.type:
        raise _Mismatch(f"dtype of input {array.dtype} does not match expected dtype {spec.type}")
    return array


# -- params ------------------------------------------------------------------------------
def enforce_params(params: Any, schema: ParamSchema | None) -> dict[str, Any] | None:
    """The params a model gets: checked, converted, with defaults filled in."""
    if schema is None:
        if params:
            _log.warning(
                "`params` can only be specified at inference time if the model signature "
                "defines a params schema. This model does not define a params schema. "
                "Ignoring provided params: %s",
                list(params) if isinstance(params, dict) else params,
            )
        return None
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidParameter(
            f"Parameters must be a dictionary. Got type {type(params).__name__!r}."
        )
    known = {p.name: p for p in schema.params}
    unknown = [k for k in params if k not in known]
    if unknown:
        _log.warning(
            "Unrecognized params %s are ignored for inference. Supported params are: %s.",
            unknown,
            set(known),
        )
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, spec in known.items():
        if name not in params:
            out[name] = spec.default
            continue
        try:
            out[name] = _convert_param(params[name], spec)
        except _Mismatch as exc:
            errors.append(
                (name, f"Failed to validate type and shape for {name!r}: {spec!r}, error: {exc}")
            )
    if errors:
        raise InvalidParameter(f"Invalid parameters found: {errors}")
    return out


def _convert_param(value: Any, spec: ParamSpec) -> Any:
    if isinstance(spec.dtype, Object):
        if not isinstance(value, dict):
            raise _Mismatch(f"Expected a dict, got {type(value).__name__}")
        return value
    if spec.shape is None:
        if isinstance(value, list | tuple | np.ndarray):
            raise _Mismatch(f"Value must be a scalar for type `{spec.dtype!r}`, got `{value}`")
        return _convert_param_scalar(value, spec.dtype)
    if not isinstance(value, list | tuple | np.ndarray):
        raise _Mismatch(f"Value must be a 1D list for type `{spec.dtype!r}`, got `{value}`")
    return [_convert_param_scalar(v, spec.dtype) for v in value]


def _convert_param_scalar(value: Any, dtype: DataType) -> Any:
    def refuse() -> _Mismatch:
        return _Mismatch(
            f"Can not safely convert `{type(value)}` to `{dtype!r}` for value `{value}`"
        )

    is_bool = isinstance(value, bool | np.bool_)
    if dtype == DataType.boolean:
        if is_bool:
            return bool(value)
        raise refuse()
    if dtype in (DataType.integer, DataType.long):
        if isinstance(value, int | np.integer) and not is_bool:
            return int(value)
        raise refuse()
    if dtype in (DataType.float, DataType.double):
        if isinstance(value, int | float | np.integer | np.floating) and not is_bool:
            return float(value)
        raise refuse()
    if dtype == DataType.string:
        if isinstance(value, str):
            return value
        raise refuse()
    if dtype == DataType.datetime:
        try:
            return np.datetime64(value)
        except (ValueError, TypeError):
            raise refuse() from None
    raise refuse()
