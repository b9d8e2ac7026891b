"""Schemas of model inputs, outputs and params, encoded exactly as MLflow writes them in an
``MLmodel`` file (each schema is a JSON list inside the YAML), so signatures travel both ways.

Column-based schemas are lists of ``ColSpec``; tensor-based ones lists of ``TensorSpec``. A
column's type is a ``DataType`` or one of the composite types ``Array``, ``Object``, ``Map``
and ``AnyType``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mltrail.exceptions import InvalidParameter


class DataType(enum.Enum):
    """A scalar column type; the value is the name in the JSON encoding."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = np.dtype(_NUMPY_BY_TYPE[self])
        return dtype

    def to_pandas(self) -> np.dtype[Any]:
        return self.to_numpy()

    def to_python(self) -> type:
        return _PYTHON_BY_TYPE[self]

    @classmethod
    def parse(cls, name: str) -> DataType:
        try:
            return cls(name)
        except ValueError:
            raise InvalidParameter(
                f"Unsupported type {name!r}, expected one of {[t.value for t in cls]}."
            ) from None


_NUMPY_BY_TYPE: dict[DataType, Any] = {
    DataType.boolean: np.bool_,
    DataType.integer: np.int32,
    DataType.long: np.int64,
    DataType.float: np.float32,
    DataType.double: np.float64,
    DataType.string: object,
    DataType.binary: object,
    DataType.datetime: "datetime64[ns]",
}

_PYTHON_BY_TYPE: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: _dt.datetime,
}


class Array:
    """A list column whose items all have one type."""

    def __init__(self, dtype: ColumnType) -> None:
        self.dtype = dtype

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": _type_to_dict(self.dtype)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


class Property:
    """One named field of an ``Object``."""

    def __init__(self, name: str, dtype: ColumnType, required: bool = True) -> None:
        self.name = name
        self.dtype = dtype
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        return {self.name: {**_type_to_dict(self.dtype), "required": self.required}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (other.name, other.dtype, other.required) == (
            self.name,
            self.dtype,
            self.required,
        )

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r}" + ("" if self.required else " (optional)")


class Object:
    """A dict column with named, typed fields."""

    def __init__(self, properties: Sequence[Property]) -> None:
        self.properties = sorted(properties, key=lambda p: p.name)

    def to_dict(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for prop in self.properties:
            props.update(prop.to_dict())
        return {"type": "object", "properties": props}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and other.properties == self.properties

    def __repr__(self) -> str:
        return "Object(" + ", ".join(repr(p) for p in self.properties) + ")"


class Map:
    """A dict column with string keys and values of one type."""

    def __init__(self, value_type: ColumnType) -> None:
        self.value_type = value_type

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": _type_to_dict(self.value_type)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and other.value_type == self.value_type

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"


class AnyType:
    """A column that accepts any value (inferred for an all-None column)."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __repr__(self) -> str:
        return "Any"


ColumnType = DataType | Array | Object | Map | AnyType
_COMPOSITE = (Array, Object, Map, AnyType)


def _type_to_dict(dtype: ColumnType) -> dict[str, Any]:
    if isinstance(dtype, DataType):
        return {"type": dtype.value}
    return dtype.to_dict()


def _type_from_dict(spec: dict[str, Any]) -> ColumnType:
    kind = spec.get("type")
    if kind is None:
        raise InvalidParameter(f"A schema entry has no 'type': {spec!r}.")
    if kind == "array":
        return Array(_type_from_dict(spec["items"]))
    if kind == "object":
        props = [
            Property(name, _type_from_dict(p), bool(p.get("required", True)))
            for name, p in (spec.get("properties") or {}).items()
        ]
        return Object(props)
    if kind == "map":
        return Map(_type_from_dict(spec["values"]))
    if kind == "any":
        return AnyType()
    if kind == "sparkml_vector":
        return Array(DataType.double)
    return DataType.parse(str(kind))


class ColSpec:
    """One column: a type, an optional name, and whether it must be present."""

    def __init__(
        self, type: ColumnType | str, name: str | None = None, required: bool = True
    ) -> None:
        self.type: ColumnType = DataType.parse(type) if isinstance(type, str) else type
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        out = _type_to_dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out

    @classmethod
    def from_json_dict(cls, spec: dict[str, Any]) -> ColSpec:
        dtype = _type_from_dict(spec)
        required = spec.get("required", True)
        # MLflow reads a missing 'required' on composite columns as "optional"; keep that.
        if "required" not in spec and isinstance(dtype, _COMPOSITE):
            required = False
        return cls(dtype, spec.get("name"), bool(required) if required is not None else False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (other.type, other.name, other.required) == (
            self.type,
            self.name,
            self.required,
        )

    def __repr__(self) -> str:
        typ = repr(self.type)
        text = typ if self.name is None else f"{self.name!r}: {typ}"
        return text if self.required else f"{text} (optional)"


class TensorSpec:
    """One tensor: a numpy dtype, a shape (-1 for a variable dimension), an optional name."""

    def __init__(
        self, type: np.dtype[Any] | str, shape: Sequence[int], name: str | None = None
    ) -> None:
        self.type = np.dtype(type)
        self.shape = tuple(int(d) for d in shape)
        self.name = name

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.name is None else {"name": self.name}
        out["type"] = "tensor"
        # Text tensors are spelled "str"/"bytes" (the dtype's name), as MLflow writes them.
        dtype = {"U": "str", "S": "bytes"}.get(self.type.kind, str(self.type))
        out["tensor-spec"] = {"dtype": dtype, "shape": list(self.shape)}
        return out

    @classmethod
    def from_json_dict(cls, spec: dict[str, Any]) -> TensorSpec:
        tensor = spec.get("tensor-spec") or {}
        if "dtype" not in tensor or "shape" not in tensor:
            raise InvalidParameter(f"A tensor spec needs 'dtype' and 'shape': {spec!r}.")
        return cls(np.dtype(tensor["dtype"]), tensor["shape"], spec.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (other.type, other.shape, other.name) == (
            self.type,
            self.shape,
            self.name,
        )

    def __repr__(self) -> str:
        text = f"Tensor({str(self.type)!r}, {self.shape})"
        return text if self.name is None else f"{self.name!r}: {text}"


Spec = ColSpec | TensorSpec


class Schema:
    """An ordered list of column specs, or of tensor specs (never a mix)."""

    def __init__(self, inputs: Iterable[Spec]) -> None:
        self.inputs: list[Spec] = list(inputs)
        kinds = {type(s) for s in self.inputs}
        if len(kinds) > 1:
            raise InvalidParameter(
                "Creating Schema with a combination of ColSpec and TensorSpec is not "
                "supported. Please choose one of ColSpec or TensorSpec."
            )
        named = {s.name is not None for s in self.inputs}
        if len(named) > 1:
            raise InvalidParameter(
                "Creating Schema with a combination of named and unnamed inputs is not "
                f"allowed. Got input names {[s.name for s in self.inputs]}"
            )

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return bool(self.inputs) and self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [s.name if s.name is not None else i for i, s in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [n for n, s in zip(self.input_names(), self.inputs, strict=True) if s.required]

    def optional_input_names(self) -> list[str | int]:
        return [n for n, s in zip(self.input_names(), self.inputs, strict=True) if not s.required]

    def input_types(self) -> list[Any]:
        return [s.type for s in self.inputs]

    def numpy_types(self) -> list[np.dtype[Any]]:
        out = []
        for s in self.inputs:
            if isinstance(s, TensorSpec):
                out.append(s.type)
            elif isinstance(s.type, DataType):
                out.append(s.type.to_numpy())
            else:
                out.append(np.dtype(object))
        return out

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        data = json.loads(text)
        if not isinstance(data, list):
            raise InvalidParameter(f"A schema must be a JSON list, got {type(data).__name__}.")
        return cls(
            TensorSpec.from_json_dict(d) if d.get("type") == "tensor" else ColSpec.from_json_dict(d)
            for d in data
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and other.inputs == self.inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(s) for s in self.inputs) + "]"


class ParamSpec:
    """One inference parameter: a name, a type, a default, and shape None (scalar) or (-1,)."""

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: Sequence[int] | None = None,
    ) -> None:
        self.name = name
        self.dtype: DataType | Object = DataType.parse(dtype) if isinstance(dtype, str) else dtype
        self.shape = tuple(shape) if shape is not None else None
        if self.dtype == DataType.binary:
            raise InvalidParameter(
                f"Binary type is not supported for parameters, ParamSpec {name!r} has dtype "
                "'binary'."
            )
        self.default = default

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if isinstance(default, _dt.datetime | _dt.date):
            default = default.isoformat()
        elif isinstance(default, np.generic):
            default = default.item()
        elif isinstance(default, np.ndarray):
            default = default.tolist()
        if isinstance(self.dtype, Object):
            typed = self.dtype.to_dict()
        else:
            typed = {"type": self.dtype.value}
        return {
            "name": self.name,
            "default": default,
            "shape": list(self.shape) if self.shape is not None else None,
            **typed,
        }

    @classmethod
    def from_json_dict(cls, spec: dict[str, Any]) -> ParamSpec:
        kind = spec.get("type")
        dtype: DataType | Object
        if kind == "object":
            parsed = _type_from_dict(spec)
            assert isinstance(parsed, Object)
            dtype = parsed
        else:
            dtype = DataType.parse(str(kind))
        return cls(spec["name"], dtype, spec.get("default"), spec.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and other.to_dict() == self.to_dict()

    def __repr__(self) -> str:
        shape = "" if self.shape is None else f" (shape: {self.shape})"
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"


class ParamSchema:
    def __init__(self, params: Iterable[ParamSpec]) -> None:
        self.params = list(params)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise InvalidParameter(f"Duplicated parameter names in {names}.")

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        return cls(ParamSpec.from_json_dict(d) for d in json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and other.params == self.params

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(p) for p in self.params) + "]"
