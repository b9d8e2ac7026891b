"""Input examples: ``input_example.json`` (the example itself) and
``serving_input_example.json`` (a ready ``/invocations`` body), in MLflow's layout."""

from __future__ import annotations

import base64
import datetime as _dt
import json
import os
import sys
from typing import Any

import numpy as np

from mltrail.exceptions import InvalidParameter

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for numpy/pandas/datetime/bytes values (used by serving too)."""
    # pandas values can only exist once pandas is imported; serving may run without it.
    pd = sys.modules.get("pandas")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if pd is not None and isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict(orient="records"))
    if pd is not None and isinstance(value, pd.Series):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime | _dt.date):  # pandas.Timestamp is a datetime
        return value.isoformat()
    if pd is not None and value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def _split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0], example[1]
    return example, None


def _describe(data: Any) -> tuple[str, Any, dict[str, Any], dict[str, Any]]:
    """(type, file content, extra info keys, serving body) for one example."""
    import pandas as pd

    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        content: dict[str, Any] = {"data": to_jsonable(data.to_numpy().tolist())}
        info: dict[str, Any] = {"pandas_orient": "split"}
        if all(isinstance(c, str) for c in data.columns):
            content = {"columns": list(data.columns), **content}
        else:
            info = {"pandas_orient": "values"}
        return "dataframe", content, info, {"dataframe_split": content}
    if isinstance(data, np.ndarray):
        content = to_jsonable(data)
        return "ndarray", content, {}, {"inputs": content}
    if isinstance(data, dict) and data and all(isinstance(v, np.ndarray) for v in data.values()):
        content = to_jsonable(data)
        return "ndarray", content, {}, {"inputs": content}
    if isinstance(data, dict | list | str | int | float | bool):
        content = to_jsonable(data)
        return "json_object", content, {}, {"inputs": content}
    raise InvalidParameter(
        f"Cannot save an input example of type {type(data).__name__}: give a pandas "
        "DataFrame, a numpy array, a dict or a list."
    )


def save_input_example(path: str, example: Any) -> dict[str, Any]:
    """Write the example files into the model directory; returns ``saved_input_example_info``."""
    data, params = _split_example(example)
    kind, content, extra, serving = _describe(data)
    if params is not None:
        content = {"inputs": content, "params": to_jsonable(params)}
        serving = {**serving, "params": to_jsonable(params)}
        extra = {**extra, "params": "true"}
    with open(os.path.join(path, EXAMPLE_FILE), "w", encoding="utf-8") as f:
        json.dump(content, f)
    with open(os.path.join(path, SERVING_EXAMPLE_FILE), "w", encoding="utf-8") as f:
        json.dump(serving, f, indent=2)
    return {
        "artifact_path": EXAMPLE_FILE,
        "serving_input_path": SERVING_EXAMPLE_FILE,
        "type": kind,
        **extra,
    }


def _read(path: str, info: dict[str, Any] | None) -> tuple[Any, Any]:
    if not info:
        return None, None
    file_path = os.path.join(path, str(info.get("artifact_path", EXAMPLE_FILE)))
    if not os.path.isfile(file_path):
        return None, None
    with open(file_path, encoding="utf-8") as f:
        content = json.load(f)
    if str(info.get("params", "")).lower() == "true" and isinstance(content, dict):
        return content.get("inputs"), content.get("params")
    return content, None


def load_input_example(path: str, info: dict[str, Any] | None) -> Any:
    import pandas as pd

    content, _ = _read(path, info)
    if content is None or not info:
        return None
    kind = info.get("type")
    if kind == "dataframe":
        if isinstance(content, dict):
            return pd.DataFrame(content.get("data", []), columns=content.get("columns"))
        return pd.DataFrame(content)
    if kind == "ndarray":
        if isinstance(content, dict):
            return {k: np.asarray(v) for k, v in content.items()}
        return np.asarray(content)
    return content


def load_input_example_params(path: str, info: dict[str, Any] | None) -> Any:
    return _read(path, info)[1]


def load_serving_example(path: str, info: dict[str, Any] | None) -> str | None:
    """The saved ``/invocations`` body, as text (None if the model has none)."""
    if not info:
        return None
    file_path = os.path.join(path, str(info.get("serving_input_path", SERVING_EXAMPLE_FILE)))
    if not os.path.isfile(file_path):
        return None
    with open(file_path, encoding="utf-8") as f:
        return f.read()
