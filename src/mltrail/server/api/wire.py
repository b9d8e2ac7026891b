"""MLflow's JSON conventions, in one place, for every API module.

Requests: each route has one pydantic model. A POST body or a GET query string is checked
against it here, and the same model documents the route in ``/openapi.json``, so what the
document promises and what the server accepts cannot drift apart. Lenient where MLflow is
lenient (ints as strings, enums by name or number, ``"NaN"``, camelCase names, unknown fields)
and strict where MLflow crashes (bodies that are not objects, NUL bytes, int64 overflow).

Responses: entities become dicts in MLflow's shape (snake_case, int64 as numbers, unset and
empty fields left out) and are encoded with orjson.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import orjson
from fastapi import Request, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool

from mltrail.entities import Experiment, Metric, Run, RunInfo
from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.store.base import TrackingStore

M = TypeVar("M", bound="WireModel")

# -- field types ----------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refuse it here so it is a 400, not a driver error.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


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


Text = Annotated[str, AfterValidator(_no_nul)]
RequiredText = Annotated[str, Field(min_length=1), AfterValidator(_no_nul)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
RunStatusName = Annotated[
    Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"], BeforeValidator(_run_status)
]
ViewTypeName = Annotated[Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"], BeforeValidator(_view_type)]
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


class WireModel(BaseModel):
    """Base of request models: unknown fields ignored, numbers accepted where text is due."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_camel_case(cls, data: Any) -> Any:
        # Proto JSON allows lowerCamel names (runId); the snake_case name wins if both appear.
        if isinstance(data, dict):
            renames = _camel_names(cls)
            if renames and not renames.keys().isdisjoint(data):
                data = dict(data)
                for camel, snake in renames.items():
                    if camel in data:
                        value = data.pop(camel)
                        data.setdefault(snake, value)
        return data


class RunRef(WireModel):
    """A request naming a run: ``run_id``, or its legacy twin ``run_uuid``."""

    run_id: Text | None = None
    run_uuid: Text | None = None

    def the_run_id(self) -> str:
        found = self.run_id or self.run_uuid
        if not found:
            raise missing("run_id")
        return found


@cache
def _camel_names(model: type[BaseModel]) -> dict[str, str]:
    out = {}
    for name, info in model.model_fields.items():
        wire = info.alias or name
        if to_camel(wire) != wire:
            out[to_camel(wire)] = wire
    return out


# -- reading requests -----------------------------------------------------------------------


def missing(name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Missing value for required parameter '{name}'. See the API docs for more "
        "information about request parameters."
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
        raise InvalidParameter(
            f"Invalid value {_shown(err['input'])} for parameter '{where}' supplied: {err['msg']}."
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
            "Bad Request. The Content-Type header is missing; send application/json."
        )
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise InvalidParameter(
            f"Bad Request. Content-Type must be application/json, not {content_type!r}."
        )


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

    return frozenset(name for name, f in model.model_fields.items() if is_list(f.annotation))


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


# -- writing responses ----------------------------------------------------------------------


def reply(payload: dict[str, Any] | None = None) -> Response:
    return Response(orjson.dumps(payload or {}), media_type="application/json")


def double(value: float) -> float | str:
    """NaN and infinities travel as strings; orjson would write them as null."""
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment_json(exp: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
    }
    if exp.last_update_time is not None:
        out["last_update_time"] = exp.last_update_time
    if exp.creation_time is not None:
        out["creation_time"] = exp.creation_time
    if exp.tags:
        out["tags"] = key_values(exp.tags)
    return out


def run_info_json(info: RunInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.start_time is not None:
        out["start_time"] = info.start_time
    if info.end_time is not None:
        out["end_time"] = info.end_time
    return out


def metric_json(m: Metric, run_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": m.key,
        "value": double(m.value),
        "timestamp": m.timestamp,
        "step": m.step or 0,
    }
    if run_id is not None:
        out["run_id"] = run_id
    return out


def run_json(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    points = run.data.metric_objs or [Metric(k, v, 0, 0) for k, v in run.data.metrics.items()]
    if points:
        data["metrics"] = [metric_json(m) for m in points]
    if run.data.params:
        data["params"] = key_values(run.data.params)
    if run.data.tags:
        data["tags"] = key_values(run.data.tags)
    inputs: dict[str, Any] = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [
            {
                "tags": [{"key": t.key, "value": t.value} for t in item.tags],
                "dataset": {
                    k: v
                    for k, v in (
                        ("name", item.dataset.name),
                        ("digest", item.dataset.digest),
                        ("source_type", item.dataset.source_type),
                        ("source", item.dataset.source),
                        ("schema", item.dataset.schema),
                        ("profile", item.dataset.profile),
                    )
                    if v is not None
                },
            }
            for item in run.inputs.dataset_inputs
        ]
    return {"info": run_info_json(run.info), "data": data, "inputs": inputs, "outputs": {}}


def paged(name: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A search page: an empty page is ``{}``, the token appears only when there is more."""
    out: dict[str, Any] = {}
    if items:
        out[name] = items
    if token:
        out["next_page_token"] = token
    return out


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
