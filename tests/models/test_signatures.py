"""Signatures: MLflow's JSON encoding, inference from each kind of data, and enforcement at
predict time (messages that name the column and the type)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from mltrail.exceptions import InvalidParameter
from mltrail.models import ModelSignature, infer_signature
from mltrail.models.enforcement import SchemaEnforcementError, enforce_params, enforce_schema
from mltrail.types import (
    Array,
    ColSpec,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)


def test_column_encoding_matches_mlflow_text():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "s": ["x", "y"]})
    sig = infer_signature(frame)
    assert sig.to_dict()["inputs"] == (
        '[{"type": "double", "name": "a", "required": true}, '
        '{"type": "long", "name": "b", "required": true}, '
        '{"type": "string", "name": "s", "required": true}]'
    )
    assert sig.to_dict()["outputs"] is None


def test_tensor_encoding_and_round_trip():
    sig = infer_signature(np.zeros((3, 4), dtype=np.float32), np.zeros(3, dtype=np.int64))
    assert json.loads(sig.to_dict()["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    assert ModelSignature.from_dict(sig.to_dict()) == sig
    named = Schema([TensorSpec(np.dtype("float32"), (-1, 2), "img")])
    assert named.to_json().startswith('[{"name": "img", "type": "tensor"')


def test_param_schema_inference_and_encoding():
    sig = infer_signature(
        pd.DataFrame({"x": [1.0]}),
        params={"temperature": 0.5, "k": 3, "flag": True, "names": ["a"]},
    )
    assert json.loads(sig.to_dict()["params"]) == [
        {"name": "temperature", "default": 0.5, "shape": None, "type": "double"},
        {"name": "k", "default": 3, "shape": None, "type": "long"},
        {"name": "flag", "default": True, "shape": None, "type": "boolean"},
        {"name": "names", "default": ["a"], "shape": [-1], "type": "string"},
    ]
    with pytest.raises(InvalidParameter, match="NoneType"):
        infer_signature(params={"bad": None})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (pd.DataFrame({"i": np.array([1], dtype=np.int32)}), [ColSpec(DataType.integer, "i")]),
        (pd.DataFrame({"f": [1.0, np.nan]}), [ColSpec(DataType.double, "f", required=False)]),
        (pd.DataFrame({"l": [[1, 2], [3]]}), [ColSpec(Array(DataType.long), "l")]),
        ({"a": 1, "b": "x"}, [ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b")]),
        (
            [{"a": 1}, {"a": 2, "b": "x"}],
            [ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b", required=False)],
        ),
        (["x", "y"], [ColSpec(DataType.string)]),
        (pd.Series([1.0], name="v"), [ColSpec(DataType.double, "v")]),
        (
            pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}),
            [ColSpec(DataType.datetime, "t")],
        ),
    ],
)
def test_inference_rules(data, expected):
    assert infer_signature(data).inputs.inputs == expected


def test_object_columns_and_composite_round_trip():
    schema = infer_signature(pd.DataFrame({"d": [{"a": 1, "b": "x"}]})).inputs
    assert isinstance(schema.inputs[0].type, Object)
    assert Schema.from_json(schema.to_json()) == schema


def test_mixing_tensor_and_column_specs_is_refused():
    with pytest.raises(InvalidParameter, match="ColSpec or TensorSpec"):
        Schema([ColSpec("double", "a"), TensorSpec(np.dtype("float32"), (-1,), "b")])
    with pytest.raises(InvalidParameter, match="named and unnamed"):
        Schema([ColSpec("double", "a"), ColSpec("double")])


SCHEMA = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "s")])


def test_enforcement_reorders_converts_and_drops_extra():
    frame = pd.DataFrame({"s": ["x"], "zzz": [1], "b": np.array([2], dtype=np.int32), "a": [3]})
    out = enforce_schema(frame, SCHEMA)
    assert list(out.columns) == ["a", "b", "s"]
    assert out["a"].dtype == np.float64 and out["b"].dtype == np.int64


def test_enforcement_accepts_dicts_and_records():
    one = enforce_schema({"a": 1.0, "b": 1, "s": "x"}, SCHEMA)
    many = enforce_schema([{"a": 1.0, "b": 1, "s": "x"}, {"a": 2.0, "b": 2, "s": "y"}], SCHEMA)
    assert len(one) == 1 and len(many) == 2


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0], "s": ["x"]}), "Model is missing inputs ['b']"),
        (
            pd.DataFrame({"a": [1.0], "b": [1.5], "s": ["x"]}),
            "Incompatible input types for column b. Can not safely convert float64 to int64",
        ),
        (
            pd.DataFrame({"a": ["1.0"], "b": [1], "s": ["x"]}),
            "Incompatible input types for column a.",
        ),
        (
            pd.DataFrame({"a": [1.0], "b": [1], "s": [1]}),
            "Incompatible input types for column s.",
        ),
    ],
)
def test_enforcement_errors_name_the_column(frame, message):
    with pytest.raises(SchemaEnforcementError) as info:
        enforce_schema(frame, SCHEMA)
    assert message in info.value.message
    body = info.value.to_dict()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert body["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"


def test_int_for_double_is_a_safe_conversion():
    out = enforce_schema(pd.DataFrame({"a": [5], "b": [1], "s": ["x"]}), SCHEMA)
    assert out["a"].tolist() == [5.0]


def test_tensor_enforcement():
    schema = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    ok = np.ones((3, 2), dtype=np.float32)
    assert enforce_schema(ok, schema) is ok
    with pytest.raises(SchemaEnforcementError, match=r"Shape of input \(1, 3\)"):
        enforce_schema(np.ones((1, 3), dtype=np.float32), schema)
    with pytest.raises(SchemaEnforcementError, match="dtype of input float64"):
        enforce_schema(np.ones((1, 2)), schema)
    with pytest.raises(SchemaEnforcementError, match="tensor-based model signature"):
        enforce_schema([[1.0, 2.0]], schema)
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    assert enforce_schema(frame, schema).dtype == np.float32


def test_params_enforcement():
    schema = ParamSchema([ParamSpec("temperature", "double", 0.5), ParamSpec("k", "long", 3)])
    assert enforce_params({"temperature": 1, "zz": 2}, schema) == {"temperature": 1.0, "k": 3}
    with pytest.raises(InvalidParameter, match="Invalid parameters found"):
        enforce_params({"temperature": "hot"}, schema)
    with pytest.raises(InvalidParameter, match="Parameters must be a dictionary"):
        enforce_params([1], schema)
    assert enforce_params({"x": 1}, None) is None


def test_param_datetime_default_serialises_as_iso():
    spec = ParamSpec("when", "datetime", dt.datetime(2024, 1, 1))
    assert spec.to_dict()["default"] == "2024-01-01T00:00:00"
