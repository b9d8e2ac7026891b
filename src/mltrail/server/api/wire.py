"""Reading requests the way MLflow's server reads them, for every API module.

Each route has one pydantic model. A POST body or a GET query string is checked against it
here, and the same model documents the route in ``/openapi.json``, so what the document
promises and what the server accepts cannot drift apart. Lenient where MLflow is lenient (ints
as strings, enums by name or number, ``"NaN"``, camelCase names, unknown fields) and strict
where MLflow crashes (bodies that are not objects, NUL bytes, int64 overflow).

Answers are written by ``mltrail.server.api.encode``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import orjson
from fastapi import Request
from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.store.base import TrackingStore

M = TypeVar("M", bound="WireModel")

# -- field types ----------------------------------------------------------------------------


def _run_status(value: Any) -> Any:
    names = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
        return names[value - 1]
    return value.upper() if isinstance(value, str) else value


def _view_type(value: Any) -> Any:
    names = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
        return names[value - 1]
    return value.upper() if isinstance(value, str) else value


# PostgreSQL refuses NUL in text: refuse it here so it is a 400, not a driver error. A pattern
# (checked in pydantic's core) rather than a Python validator keeps big batches fast.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
RequiredText = Annotated[str, StringConstraints(min_length=1, pattern=NO_NUL)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
RunStatusName = Annotated[
    Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"], BeforeValidator(_run_status)
]
ViewTypeName = Annotated[Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"], BeforeValidator(_view_type)]
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


def _snake_or_camel(name: str) -> AliasChoices | str:
    camel = to_camel(name)
    return AliasChoices(name, camel) if camel != name else name


class WireModel(BaseModel):
    """Base of request models: unknown fields ignored, numbers accepted where text is due,
    and proto JSON's lowerCamel names (``runId``) accepted beside the snake_case ones."""

    model_config = ConfigDict(
        extra="ignore",
        coerce_numbers_to_str=True,
        frozen=True,
        alias_generator=AliasGenerator(validation_alias=_snake_or_camel),
    )


class RunRef(WireModel):
    """A request naming a run: ``run_id``, or its legacy twin ``run_uuid``."""

    run_id: Text | None = None
    run_uuid: Text | None = None

    def the_run_id(self) -> str:
        found = self.run_id or self.run_uuid
        if not found:
            raise missing("run_id")
        return found


# -- reading requests -----------------------------------------------------------------------


def missing(name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Missing value for required parameter '{name}': give it a non-empty value "
        "(the request formats are listed at /openapi.json)."
    )


def bad_request(message: str) -> MltrailException:
    return MltrailException(message, error_code="BAD_REQUEST")


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 100 else text[:100] + "..."


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_context=False)[0]
        where = _where(err["loc"])
        if err["type"] == "missing" or (err["type"] == "string_too_short" and not err["input"]):
            raise missing(where) from None
        if err["type"] == "string_pattern_mismatch":
            err["msg"] = "text must not contain NUL characters"
        raise InvalidParameter(
            f"Invalid value {_shown(err['input'])} for parameter '{where}': {err['msg']}."
        ) from None


def decode_json(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body ({} for an empty body)."""
    if not raw.strip():
        return {}
    data = _loads(raw)
    if isinstance(data, str):  # older clients sent the body JSON-encoded twice
        data = _loads(data.encode("utf-8"))
    if not isinstance(data, dict):
        raise InvalidParameter(
            f"The request body must be a JSON object, not a JSON {type(data).__name__}."
        )
    return data


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        first_error = str(exc)
    try:  # the standard parser also takes NaN / Infinity literals and very large integers
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise bad_request(f"Malformed JSON in the request body: {first_error}.") from None


def check_json_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise InvalidParameter(
            "The Content-Type header is missing: send the body as application/json."
        )
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise InvalidParameter(f"The Content-Type must be application/json, not {content_type!r}.")


async def read_body_dict(request: Request) -> dict[str, Any]:
    if request.method in ("POST", "PUT"):
        check_json_content_type(request)
    return decode_json(await request.body())


async def read_body(request: Request, model: type[M]) -> M:
    return validate(model, await read_body_dict(request))


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    def is_list(annotation: Any) -> bool:
        if get_origin(annotation) is list:
            return True
        return any(is_list(arg) for arg in get_args(annotation))

    names = [name for name, f in model.model_fields.items() if is_list(f.annotation)]
    return frozenset(names + [to_camel(name) for name in names])


async def read_query(request: Request, model: type[M]) -> M:
    """GET parameters: repeated keys make lists; with no query string, a JSON body counts."""
    params = request.query_params
    if not params:
        raw = await request.body()
        if raw.strip():
            return validate(model, decode_json(raw))
    lists = _list_fields(model)
    data: dict[str, Any] = {}
    for key in params:
        data[key] = params.getlist(key) if key in lists else params[key]
    return validate(model, data)


# -- calling the store ----------------------------------------------------------------------


def store_of(request: Request) -> TrackingStore:
    return request.app.state.store  # type: ignore[no-any-return]


async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) store method in the thread pool, off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


# -- OpenAPI ---------------------------------------------------------------------------------


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every reference inlined (self-contained for OpenAPI)."""
    schema = model.model_json_schema(by_alias=True)
    return _inline(schema, schema.get("$defs", {}))  # type: ignore[no-any-return]


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_of(model)}},
        }
    }


def query_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting query parameters (lists as repeated keys)."""
    schema = schema_of(model)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        param["schema"] = prop
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return {"parameters": params}
