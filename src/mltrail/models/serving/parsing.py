"""Request bodies of ``/invocations`` (and ``mltrail models predict``) to model input, with
MLflow's scoring protocol: JSON with one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs`` (plus ``params``), the older bare ``{"columns", "data"}`` body, and
CSV. Every bad body is a ``ScoringError`` with MLflow's error fields and a 4xx status.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import numpy as np
import orjson

from mltrail.exceptions import MltrailException
from mltrail.types.schema import ColSpec, DataType, Schema, TensorSpec

FORMAT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ["text/csv", "application/json", "application/vnd.apache.parquet"]
_LEGACY_KEYS = {"columns", "data", "index"}
_PROTOCOL_NOTE = (
    " IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you "
    "are seeing this error, you are likely using an outdated scoring request format. To "
    "resolve the error, either update your request format or adjust your MLflow Model's "
    "requirements file to specify an older version of MLflow (for example, change the "
    "'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using "
    "the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to "
    "a version >= 2.0 in order to use the new request format. For more information about the "
    "updated MLflow Model scoring protocol in MLflow 2.0, see "
    "https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)


class ScoringError(MltrailException):
    """A request the scoring server refuses; ``status`` is its HTTP status."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        error_code: str = "BAD_REQUEST",
        error_class: str = "INVALID_PARAMETER_VALUE",
        sqlstate: str = "KAM00",
        plain: bool = False,
    ) -> None:
        super().__init__(message, error_code, sqlstate=sqlstate, error_class=error_class)
        self.status = status
        self.plain = plain  # MLflow answers content-type problems in text/plain


def check_content_type(header: str | None) -> str:
    """The media type to parse, or a 415 ``ScoringError``."""
    if not header:
        raise ScoringError(
            "Missing Content-Type header: send application/json or text/csv.",
            status=415,
            plain=True,
        )
    media, *parameters = [part.strip() for part in header.split(";")]
    media = media.lower()
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        key = key.strip().lower()
        if key != "charset":
            raise ScoringError(
                f"Unrecognized content type parameters: {key}.{_PROTOCOL_NOTE}",
                status=415,
                plain=True,
            )
        if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ScoringError("The scoring server only supports UTF-8", status=415, plain=True)
    if media not in CONTENT_TYPES:
        raise ScoringError(
            "This predictor only supports the following content types: Types: "
            f"{CONTENT_TYPES}. Got '{header}'.",
            status=415,
            plain=True,
        )
    return media


def parse_body(body: bytes, media: str, schema: Schema | None) -> tuple[Any, dict[str, Any] | None]:
    """(model input, params) from a request body of type ``media``."""
    if media == "text/csv":
        return parse_csv(body, schema), None
    if media == "application/vnd.apache.parquet":
        return _parse_parquet(body), None
    return parse_json(body, schema)


def loads_json(body: bytes) -> Any:
    """The JSON document of a request body, or a ``ScoringError``."""
    return _loads(body)


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc).lower() or "recursion" in str(exc).lower():
            raise ScoringError("Invalid input. The JSON body is nested too deeply.") from None
        shown = body[:200]
        raise ScoringError(
            "Invalid input. Ensure that input is a valid JSON formatted string. "
            f"Error: '{exc}'\nInput: \n{shown!r}\n"
        ) from None


def parse_json(body: bytes, schema: Schema | None) -> tuple[Any, dict[str, Any] | None]:
    return parse_json_document(_loads(body), schema)


def parse_json_document(data: Any, schema: Schema | None) -> tuple[Any, dict[str, Any] | None]:
    """(model input, params) from a parsed JSON request."""
    if not isinstance(data, dict):
        raise ScoringError(
            "Invalid input. The input must be a JSON dictionary with exactly one of the input "
            f"fields {set(FORMAT_KEYS)}. Received a {type(data).__name__}."
        )
    found = [k for k in FORMAT_KEYS if k in data]
    if not found and "data" in data and set(data) <= _LEGACY_KEYS:
        # The 1.x body {"columns": [...], "data": [[...]]} that older clients still send.
        return _dataframe_split(data, schema), None
    if len(found) != 1:
        raise ScoringError(
            "The input must be a JSON dictionary with exactly one of the input fields "
            f"{set(FORMAT_KEYS)}. Received dictionary with input fields: {found}." + _PROTOCOL_NOTE
        )
    unknown = sorted(set(data) - {found[0], "params"})
    if unknown:
        raise ScoringError(
            f"Invalid input. Unknown top-level fields {unknown}: a request holds one of "
            f"{list(FORMAT_KEYS)} and optionally 'params'."
        )
    params = data.get("params")
    if params is not None and not isinstance(params, dict):
        raise ScoringError(
            f"Parameters must be a dictionary. Got type '{type(params).__name__}'.",
            error_code="INVALID_PARAMETER_VALUE",
        )
    key = found[0]
    value = data[key]
    if key == "dataframe_split":
        return _dataframe_split(value, schema), params
    if key == "dataframe_records":
        return _dataframe_records(value, schema), params
    return _tensor_like(value, schema, key), params


def _dataframe_split(value: Any, schema: Schema | None) -> Any:
    import pandas as pd

    if not isinstance(value, dict):
        raise ScoringError(
            f"Invalid input. Dataframe split format must be a dictionary. Got type {type(value)}."
        )
    if "data" not in value or not set(value) <= _LEGACY_KEYS:
        raise ScoringError(
            "Invalid input. Dataframe split format must have 'data' field and optionally "
            f"'columns' and 'index' fields. Got {set(value)}."
        )
    fast = _numeric_block(value, schema)
    if fast is not None:
        return fast
    try:
        frame = pd.DataFrame(
            data=value["data"], columns=value.get("columns"), index=value.get("index")
        )
    except (ValueError, TypeError) as exc:
        raise ScoringError(
            f"Invalid input. Cannot build a table from dataframe_split: {exc}"
        ) from None
    return _cast_frame(frame, schema)


def _numeric_block(value: dict[str, Any], schema: Schema | None) -> Any:
    """A frame built as one numpy block when every column is the schema's and all share one
    numeric type (the common scoring request): no per-column parsing and casting."""
    import pandas as pd

    columns = value.get("columns")
    dtypes = _column_dtypes(schema)
    if not columns or "index" in value or schema is None or len(dtypes) != len(schema.inputs):
        return None
    if [str(c) for c in columns] != list(dtypes) or len(set(dtypes.values())) != 1:
        return None
    try:
        block = np.asarray(value["data"], dtype=next(iter(dtypes.values())))
    except (ValueError, TypeError):
        return None  # the general path explains what is wrong
    if block.ndim != 2 or block.shape[1] != len(columns):
        return None
    return pd.DataFrame(block, columns=list(dtypes))


def _dataframe_records(value: Any, schema: Schema | None) -> Any:
    import pandas as pd

    if not isinstance(value, list):
        raise ScoringError(
            "Invalid input. Dataframe records format must be a list of records. Got "
            f"{'dictionary' if isinstance(value, dict) else type(value).__name__}."
        )
    if not all(isinstance(r, dict) for r in value):
        raise ScoringError("Invalid input. Every dataframe record must be a JSON object.")
    return _cast_frame(pd.DataFrame(value), schema)


def _column_dtypes(schema: Schema | None) -> dict[str, np.dtype[Any]]:
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return {}
    out = {}
    for spec in schema.inputs:
        if isinstance(spec, ColSpec) and isinstance(spec.type, DataType):
            if spec.type in (DataType.string, DataType.binary, DataType.datetime):
                continue
            out[str(spec.name)] = spec.type.to_numpy()
    return out


def _cast_frame(frame: Any, schema: Schema | None) -> Any:
    """Cast columns to the schema's types while parsing (JSON has no int/float distinction)."""
    if schema is not None and schema.is_tensor_spec():
        return frame
    for name, dtype in _column_dtypes(schema).items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if column.dtype == dtype or (not _required(schema, name) and column.isna().any()):
            continue
        try:
            frame[name] = column.astype(dtype)
        except (ValueError, TypeError) as exc:
            raise ScoringError(
                "Invalid input. Data is not compatible with model signature. Failed to "
                f"convert column {name} to type '{dtype}'. Error: '{exc!r}'"
            ) from None
    return frame


def _required(schema: Schema | None, name: str) -> bool:
    if schema is None:
        return True
    return any(s.name == name and s.required for s in schema.inputs)


def _tensor_like(value: Any, schema: Schema | None, key: str) -> Any:
    import pandas as pd

    if (
        key == "instances"
        and isinstance(value, list)
        and value
        and all(isinstance(r, dict) for r in value)
    ):
        columns: dict[str, list[Any]] = {}
        for row in value:
            for name, item in row.items():
                columns.setdefault(name, []).append(item)
        if len({len(v) for v in columns.values()}) > 1:
            raise ScoringError("The length of values for each input/column name are not the same")
        value = columns
    if schema is not None and schema.is_tensor_spec():
        return _tensors(value, schema)
    if schema is not None and schema.has_input_names():
        if isinstance(value, dict):
            if all(_scalar(v) for v in value.values()):
                return _cast_frame(pd.DataFrame([value]), schema)
            try:
                return _cast_frame(pd.DataFrame(value), schema)
            except ValueError as exc:
                raise ScoringError(f"Invalid input. {exc}") from None
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            return _cast_frame(pd.DataFrame(value), schema)
        if isinstance(value, list) and len(schema.inputs) == 1:
            return _cast_frame(pd.DataFrame({str(schema.inputs[0].name): value}), schema)
        if isinstance(value, list):
            names = [str(s.name) for s in schema.inputs]
            rows = value if value and isinstance(value[0], list) else [value]
            if all(isinstance(r, list) and len(r) == len(names) for r in rows):
                return _cast_frame(pd.DataFrame(rows, columns=names), schema)
        return value
    if isinstance(value, dict):
        return {k: _array(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(r, dict) for r in value):
            return value
        return _array(value)
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _array(value: Any, dtype: Any = None) -> Any:
    try:
        return np.array(value, dtype=dtype)
    except (ValueError, TypeError) as exc:
        if dtype is not None:
            raise ScoringError(f"Invalid input. {exc}") from None
        return value


def _tensors(value: Any, schema: Schema) -> Any:
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if not isinstance(value, dict):
            raise ScoringError(
                "Invalid input. This model takes named tensors: send a JSON object of "
                f"name -> nested list; got a {type(value).__name__}."
            )
        by_name = {s.name: s for s in specs}
        return {k: _array(v, by_name[k].type if k in by_name else None) for k, v in value.items()}
    return _array(value, specs[0].type)


def parse_csv(body: bytes, schema: Schema | None) -> Any:
    import pandas as pd

    dtypes = _column_dtypes(schema)
    try:
        return pd.read_csv(io.BytesIO(body), dtype=dtypes or None)
    except Exception as exc:  # noqa: BLE001 - any parser failure is the client's bad CSV
        raise ScoringError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` "
            f"method. Error: '{exc}'"
        ) from None


def _parse_parquet(body: bytes) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except Exception as exc:  # noqa: BLE001 - bad bytes, or no parquet engine installed
        raise ScoringError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "Parquet Pandas DataFrame produced using the `pandas.DataFrame.to_parquet()` "
            f"method. Error: '{exc}'"
        ) from None


def predictions_json(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as JSON bytes (numpy arrays serialised natively)."""
    return orjson.dumps({"predictions": _plain(predictions)}, option=orjson.OPT_SERIALIZE_NUMPY)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf" and value.dtype.isnative:
            return value if value.flags.c_contiguous else np.ascontiguousarray(value)
        return _plain(value.tolist())
    pd = sys.modules.get("pandas")  # no pandas loaded: the value cannot be a pandas object
    if pd is not None and isinstance(value, pd.DataFrame):
        return _plain(value.to_dict(orient="records"))
    if pd is not None and isinstance(value, pd.Series):
        return _plain(value.to_numpy())
    from mltrail.models.examples import to_jsonable

    return to_jsonable(value)
