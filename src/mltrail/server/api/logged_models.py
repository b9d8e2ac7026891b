"""Logged model routes (MLflow 3's LoggedModel): create, get, finalize, delete, search, tags,
params, artifact listings, and ``/runs/outputs``, which links a model to the run that made it.

What MLflow 3's ``log_model`` sends, in order: create, ``runs/outputs``, the run's metrics again
with the ``model_id`` (``runs/log-batch``), a get, the files PUT through the artifact proxy
under ``<experiment location>/models/<model_id>/artifacts/``, then the finalize PATCH.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BeforeValidator, StrictBool

from mltrail.entities import (
    LoggedModel,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)
from mltrail.exceptions import InvalidParameter
from mltrail.protocol import tracking_routes as routes
from mltrail.protocol.doubles import encode_double
from mltrail.server import artifact_io
from mltrail.server.api.artifacts import repository_for
from mltrail.server.api.encode import key_values, paged, reply
from mltrail.server.api.mount import serve
from mltrail.server.api.wire import (
    Int32,
    Int64,
    RequiredText,
    RunRef,
    Text,
    WireModel,
    bad_request,
    call,
    missing,
    read_body,
    read_query,
    store_of,
)
from mltrail.server.idempotency import once
from mltrail.store.artifact.paths import safe_relative_path

router = APIRouter(tags=["logged models"])


def _status(value: Any) -> Any:
    try:
        return LoggedModelStatus.normalize(value).wire_name
    except InvalidParameter:
        return value  # left for the Literal to refuse, naming the field


StatusName = Annotated[
    Literal[
        "LOGGED_MODEL_STATUS_UNSPECIFIED",
        "LOGGED_MODEL_PENDING",
        "LOGGED_MODEL_READY",
        "LOGGED_MODEL_UPLOAD_FAILED",
    ],
    BeforeValidator(_status),
]


def _flag(value: Any) -> Any:
    # MLflow's bool query values: true or false, in any case; anything else is refused.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


Flag = Annotated[StrictBool, BeforeValidator(_flag)]


class KeyValueIn(WireModel):
    key: RequiredText
    value: Text | None = None


class CreateIn(WireModel):
    experiment_id: RequiredText
    name: Text | None = None
    model_type: Text | None = None
    source_run_id: Text | None = None
    params: list[KeyValueIn] = []
    tags: list[KeyValueIn] = []


class GetIn(WireModel):
    allow_deleted: Flag | None = None


class FinalizeIn(WireModel):
    model_id: Text | None = None
    status: StatusName


class ModelRefIn(WireModel):
    model_id: Text | None = None


class DatasetIn(WireModel):
    dataset_name: RequiredText
    dataset_digest: Text | None = None


class OrderByIn(WireModel):
    field_name: RequiredText
    ascending: bool | None = None
    dataset_name: Text | None = None
    dataset_digest: Text | None = None


class SearchIn(WireModel):
    experiment_ids: list[Text] = []
    filter: Text | None = None
    datasets: list[DatasetIn] = []
    max_results: Int32 | None = None
    order_by: list[OrderByIn] = []
    page_token: Text | None = None


class SetTagsIn(WireModel):
    tags: list[KeyValueIn] = []


class LogParamsIn(WireModel):
    model_id: Text | None = None
    params: list[KeyValueIn] = []


class DirectoriesIn(WireModel):
    artifact_directory_path: Text | None = None
    page_token: Text | None = None


class FilesIn(WireModel):
    artifact_file_path: Text | None = None


class ModelOutputIn(WireModel):
    model_id: RequiredText
    step: Int64 | None = None


class LogOutputsIn(RunRef):
    models: list[ModelOutputIn] | None = None


# -- answers ------------------------------------------------------------------------------------


def _metric_json(m: Metric) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": m.key,
        "value": encode_double(m.value),
        "timestamp": m.timestamp,
        "step": m.step or 0,
    }
    for name in ("dataset_name", "dataset_digest", "model_id", "run_id"):
        if getattr(m, name):
            out[name] = getattr(m, name)
    return out


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    """A LoggedModel in MLflow's shape: ``{info, data}``, unset fields left out."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": LoggedModelStatus.normalize(model.status).wire_name,
    }
    for name in ("model_type", "source_run_id", "status_message"):
        if getattr(model, name):
            info[name] = getattr(model, name)
    if model.tags:
        info["tags"] = key_values(model.tags)
    data: dict[str, Any] = {}
    if model.params:
        data["params"] = key_values(model.params)
    if model.metrics:
        data["metrics"] = [_metric_json(m) for m in model.metrics]
    return {"info": info, "data": data}


def _one(model: LoggedModel) -> Response:
    return reply({"model": logged_model_json(model)})


def _tags(items: list[KeyValueIn]) -> list[LoggedModelTag]:
    return [LoggedModelTag(t.key, t.value or "") for t in items]


def _params(items: list[KeyValueIn]) -> list[LoggedModelParameter]:
    return [LoggedModelParameter(p.key, p.value or "") for p in items]


# -- routes -------------------------------------------------------------------------------------
# The search route comes before the ``{model_id}`` ones, which it would otherwise look like.


@serve(router, routes.SEARCH_LOGGED_MODELS)
async def search_logged_models(request: Request) -> Response:
    body = await read_body(request, SearchIn)
    if not body.experiment_ids:
        raise missing("experiment_ids")
    page = await call(
        store_of(request).search_logged_models,
        experiment_ids=body.experiment_ids,
        filter_string=body.filter or None,
        datasets=[d.model_dump() for d in body.datasets],
        max_results=50 if body.max_results is None else body.max_results,
        order_by=[o.model_dump() for o in body.order_by],
        page_token=body.page_token or None,
    )
    return reply(paged("models", [logged_model_json(m) for m in page], page.token))


@serve(router, routes.CREATE_LOGGED_MODEL)
async def create_logged_model(request: Request) -> Response:
    return await once(request, "logged-models/create", lambda: _create(request))


async def _create(request: Request) -> Response:
    body = await read_body(request, CreateIn)
    model = await call(
        store_of(request).create_logged_model,
        experiment_id=body.experiment_id,
        name=body.name,
        source_run_id=body.source_run_id or None,
        tags=_tags(body.tags),
        params=_params(body.params),
        model_type=body.model_type or None,
    )
    return _one(model)


@serve(router, routes.GET_LOGGED_MODEL)
async def get_logged_model(request: Request, model_id: str) -> Response:
    query = await read_query(request, GetIn)
    model = await call(
        store_of(request).get_logged_model, model_id, allow_deleted=bool(query.allow_deleted)
    )
    return _one(model)


@serve(router, routes.FINALIZE_LOGGED_MODEL)
async def finalize_logged_model(request: Request, model_id: str) -> Response:
    body = await read_body(request, FinalizeIn)
    # MLflow's handler reads the id from the body; the path's is the fallback.
    model = await call(
        store_of(request).finalize_logged_model, body.model_id or model_id, body.status
    )
    return _one(model)


@serve(router, routes.DELETE_LOGGED_MODEL)
async def delete_logged_model(request: Request, model_id: str) -> Response:
    body = await read_body(request, ModelRefIn)
    await call(store_of(request).delete_logged_model, body.model_id or model_id)
    return reply()


@serve(router, routes.SET_LOGGED_MODEL_TAGS)
async def set_logged_model_tags(request: Request, model_id: str) -> Response:
    body = await read_body(request, SetTagsIn)
    await call(store_of(request).set_logged_model_tags, model_id, _tags(body.tags))
    return reply()  # the proto promises {model}; MLflow's server answers {}


@serve(router, routes.DELETE_LOGGED_MODEL_TAG)
async def delete_logged_model_tag(model_id: str, tag_key: str, request: Request) -> Response:
    await call(store_of(request).delete_logged_model_tag, model_id, tag_key)
    return reply()


@serve(router, routes.LOG_LOGGED_MODEL_PARAMS)
async def log_logged_model_params(request: Request, model_id: str) -> Response:
    body = await read_body(request, LogParamsIn)
    await call(
        store_of(request).log_logged_model_params, body.model_id or model_id, _params(body.params)
    )
    return reply()


def _model_files(request: Request, model_id: str) -> tuple[str, Any]:
    model = store_of(request).get_logged_model(model_id)
    return model.artifact_location, repository_for(
        request.app.state.settings, model.artifact_location
    )


def _list_directory(request: Request, model_id: str, path: str | None) -> dict[str, Any]:
    root_uri, repo = _model_files(request, model_id)
    files = []
    for f in repo.list_artifacts(path or None):
        entry: dict[str, Any] = {"path": f.path, "is_dir": f.is_dir}
        if not f.is_dir and f.file_size is not None:
            entry["file_size"] = f.file_size
        files.append(entry)
    out: dict[str, Any] = {"root_uri": root_uri}
    if files:
        out["files"] = files
    return out


@serve(router, routes.LIST_LOGGED_MODEL_ARTIFACTS)
async def list_logged_model_artifacts(request: Request, model_id: str) -> Response:
    query = await read_query(request, DirectoriesIn)
    return reply(await call(_list_directory, request, model_id, query.artifact_directory_path))


@serve(router, routes.GET_LOGGED_MODEL_ARTIFACT)
async def get_logged_model_artifact(request: Request, model_id: str) -> Response:
    query = await read_query(request, FilesIn)
    path = safe_relative_path(query.artifact_file_path)
    if not path:
        raise bad_request("Give the file to read in artifact_file_path, e.g. 'MLmodel'.")
    _, repo = await call(_model_files, request, model_id)
    response: Response = await call(artifact_io.download_response, repo, path)
    return response


@serve(router, routes.LOG_OUTPUTS)
async def log_outputs(request: Request) -> Response:
    body = await read_body(request, LogOutputsIn)
    run_id = body.the_run_id()
    if body.models is None:
        raise missing("models")
    models = [LoggedModelOutput(m.model_id, m.step or 0) for m in body.models]
    await call(store_of(request).log_outputs, run_id, models)
    return reply()
