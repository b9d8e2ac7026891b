"""``ModelSignature``: what a model takes and returns, stored in ``MLmodel`` as three JSON
strings (``inputs``, ``outputs``, ``params``) exactly as MLflow stores them."""

from __future__ import annotations

import warnings
from typing import Any

from mltrail.exceptions import InvalidParameter
from mltrail.types.inference import infer_param_schema, infer_schema
from mltrail.types.schema import ColSpec, DataType, ParamSchema, Schema


class ModelSignature:
    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for value, what in ((inputs, "inputs"), (outputs, "outputs")):
            if value is not None and not isinstance(value, Schema):
                raise InvalidParameter(f"Signature {what} must be a Schema, got {type(value)!r}.")
        if params is not None and not isinstance(params, ParamSchema):
            raise InvalidParameter(f"Signature params must be a ParamSchema, got {type(params)!r}.")
        if inputs is None and outputs is None:
            raise InvalidParameter("A signature needs inputs or outputs (or both).")
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        def parse(key: str) -> Any:
            text = data.get(key)
            return Schema.from_json(text) if text else None

        params_text = data.get("params")
        return cls(
            parse("inputs"),
            parse("outputs"),
            ParamSchema.from_json(params_text) if params_text else None,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (
            other.inputs,
            other.outputs,
            other.params,
        ) == (self.inputs, self.outputs, self.params)

    def __repr__(self) -> str:
        return (
            f"inputs:\n  {self.inputs!r}\noutputs:\n  {self.outputs!r}\n"
            f"params:\n  {self.params!r}\n"
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """A signature from example inputs, outputs (e.g. ``model.predict(X)``) and params."""
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    param_schema = infer_param_schema(params) if params else None
    if inputs is not None and _has_integer_columns(inputs):
        warnings.warn(
            "Hint: Inferred schema contains integer column(s). Integer columns in Python "
            "cannot represent missing values; if your input data may have missing values at "
            "inference time, declare such columns as doubles (float64).",
            stacklevel=2,
        )
    return ModelSignature(inputs, outputs, param_schema)


def _has_integer_columns(schema: Schema) -> bool:
    return any(
        isinstance(s, ColSpec) and s.type in (DataType.integer, DataType.long)
        for s in schema.inputs
    )
