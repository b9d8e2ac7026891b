"""Model registry routes: ``/registered-models/*`` and ``/model-versions/*``, as the real
``mlflow`` client calls them (DELETEs carry JSON bodies; searches are GETs with repeated
``order_by`` keys; versions travel as strings).

Each successful write also hands a registry event to the webhook dispatcher, if the server has
one (``app.state.webhooks``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import StrictBool

from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.protocol import registry_routes as routes
from mltrail.server.api.encode import paged, reply
from mltrail.server.api.mount import serve, serve_at_full_path
from mltrail.server.api.readable_pages import readable_page
from mltrail.server.api.wire import (
    Int64,
    RequiredText,
    Text,
    WireModel,
    call,
    missing,
    query_doc,
    read_body,
    read_query,
)
from mltrail.server.locations import check_source_uri
from mltrail.store.registry_base import (
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    ModelRegistryStore,
)
from mltrail.store.registry_wire import model_version_to_json, registered_model_to_json

router = APIRouter(tags=["model registry"])
root_router = APIRouter(tags=["model registry"])  # routes at the server's root

# The proto's default for search-model-versions; the mlflow client sends 10000.
SEARCH_MODEL_VERSIONS_WIRE_DEFAULT = 200000


def registry_of(request: Request) -> ModelRegistryStore:
    return request.app.state.registry_store  # type: ignore[no-any-return]


def _event(request: Request, event: str, payload: dict[str, Any]) -> None:
    hooks = getattr(request.app.state, "webhooks", None)
    if hooks is not None:
        hooks.emit(event, payload)


def _model_answer(model: Any) -> Response:
    return reply({"registered_model": registered_model_to_json(model)})


def _version_answer(version: Any) -> Response:
    return reply({"model_version": model_version_to_json(version)})


async def _search(
    request: Request, search: Any, default_max: int, key: str, to_json: Any
) -> Response:
    """The two registry searches: filter, max_results, repeated order_by, page token. With
    --auth, only models the caller may read are listed, in full pages (``readable_pages``)."""
    query = await read_query(request, SearchIn)
    max_results = default_max if query.max_results is None else query.max_results
    order_by = query.order_by or None

    def fetch(size: int, token: str | None) -> Any:
        return search(query.filter or None, size, order_by, token)

    may_read = request.scope.get("mltrail.can_read_model")  # set for non-admins under --auth
    token = query.page_token or None
    if may_read is None:
        page = await call(fetch, max_results, token)
    else:
        page = await call(
            readable_page, fetch, lambda item: bool(may_read(item.name)), max_results, token
        )
    return reply(paged(key, [to_json(item) for item in page], page.token))


# -- requests -----------------------------------------------------------------------------------


class TagIn(WireModel):
    key: RequiredText
    value: Text | None = None


class NameIn(WireModel):
    name: RequiredText


class CreateModelIn(NameIn):
    tags: list[TagIn] = []
    description: Text | None = None


class RenameIn(NameIn):
    new_name: RequiredText


class UpdateModelIn(NameIn):
    description: Text | None = None


class SearchIn(WireModel):
    filter: Text | None = None
    max_results: Int64 | None = None
    order_by: list[Text] = []
    page_token: Text | None = None


class LatestIn(NameIn):
    stages: list[Text] = []


class ModelTagIn(NameIn):
    key: RequiredText
    value: Text | None = None


class ModelTagKeyIn(NameIn):
    key: RequiredText


class AliasIn(NameIn):
    alias: RequiredText
    version: RequiredText


class AliasRefIn(NameIn):
    alias: RequiredText


class CreateVersionIn(NameIn):
    source: RequiredText
    run_id: Text | None = None
    tags: list[TagIn] = []
    run_link: Text | None = None
    description: Text | None = None
    model_id: Text | None = None


class VersionIn(NameIn):
    version: RequiredText


class UpdateVersionIn(VersionIn):
    description: Text | None = None


class TransitionIn(VersionIn):
    stage: RequiredText
    archive_existing_versions: StrictBool | None = None


class DownloadUriIn(WireModel):
    name: Text | None = None
    version: Text | None = None


class VersionTagIn(VersionIn):
    key: RequiredText
    value: Text | None = None


class VersionTagKeyIn(VersionIn):
    key: RequiredText


class VersionArtifactIn(VersionIn):
    path: Text | None = None


# -- registered models --------------------------------------------------------------------------


@serve(router, routes.CREATE_REGISTERED_MODEL)
async def create_registered_model(request: Request) -> Response:
    body = await read_body(request, CreateModelIn)
    tags = [RegisteredModelTag(t.key, t.value or "") for t in body.tags]
    model = await call(registry_of(request).create_registered_model, body.name, tags,
                       body.description)  # fmt: skip
    out = registered_model_to_json(model)
    _event(request, "registered_model.created", out)
    return reply({"registered_model": out})


@serve(router, routes.GET_REGISTERED_MODEL)
async def get_registered_model(request: Request) -> Response:
    query = await read_query(request, NameIn)
    return _model_answer(await call(registry_of(request).get_registered_model, query.name))


@serve(router, routes.RENAME_REGISTERED_MODEL)
async def rename_registered_model(request: Request) -> Response:
    body = await read_body(request, RenameIn)
    store = registry_of(request)
    return _model_answer(await call(store.rename_registered_model, body.name, body.new_name))


@serve(router, routes.UPDATE_REGISTERED_MODEL)
async def update_registered_model(request: Request) -> Response:
    body = await read_body(request, UpdateModelIn)
    store = registry_of(request)
    return _model_answer(await call(store.update_registered_model, body.name, body.description))


@serve(router, routes.DELETE_REGISTERED_MODEL)
async def delete_registered_model(request: Request) -> Response:
    body = await read_body(request, NameIn)
    await call(registry_of(request).delete_registered_model, body.name)
    return reply()


@serve(router, routes.SEARCH_REGISTERED_MODELS)
async def search_registered_models(request: Request) -> Response:
    return await _search(
        request,
        registry_of(request).search_registered_models,
        SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        "registered_models",
        registered_model_to_json,
    )


async def _latest(request: Request, query: LatestIn) -> Response:
    found = await call(registry_of(request).get_latest_versions, query.name, query.stages or None)
    return reply({"model_versions": [model_version_to_json(v) for v in found]} if found else {})


@serve(router, routes.GET_LATEST_VERSIONS)
async def get_latest_versions(request: Request) -> Response:
    return await _latest(request, await read_body(request, LatestIn))


@serve(router, routes.GET_LATEST_VERSIONS_GET)
async def get_latest_versions_by_get(request: Request) -> Response:
    return await _latest(request, await read_query(request, LatestIn))


@serve(router, routes.SET_REGISTERED_MODEL_TAG)
async def set_registered_model_tag(request: Request) -> Response:
    body = await read_body(request, ModelTagIn)
    tag = RegisteredModelTag(body.key, body.value or "")
    await call(registry_of(request).set_registered_model_tag, body.name, tag)
    return reply()


@serve(router, routes.DELETE_REGISTERED_MODEL_TAG)
async def delete_registered_model_tag(request: Request) -> Response:
    body = await read_body(request, ModelTagKeyIn)
    await call(registry_of(request).delete_registered_model_tag, body.name, body.key)
    return reply()


@serve(router, routes.SET_ALIAS)
async def set_registered_model_alias(request: Request) -> Response:
    body = await read_body(request, AliasIn)
    await call(registry_of(request).set_registered_model_alias, body.name, body.alias,
               body.version)  # fmt: skip
    payload = {"name": body.name, "alias": body.alias, "version": body.version}
    _event(request, "model_version_alias.created", payload)
    return reply()


@serve(router, routes.DELETE_ALIAS)
async def delete_registered_model_alias(request: Request) -> Response:
    body = await read_body(request, AliasRefIn)
    await call(registry_of(request).delete_registered_model_alias, body.name, body.alias)
    _event(request, "model_version_alias.deleted", {"name": body.name, "alias": body.alias})
    return reply()


@serve(router, routes.GET_VERSION_BY_ALIAS)
async def get_model_version_by_alias(request: Request) -> Response:
    query = await read_query(request, AliasRefIn)
    store = registry_of(request)
    return _version_answer(await call(store.get_model_version_by_alias, query.name, query.alias))


# -- model versions -----------------------------------------------------------------------------


@serve(router, routes.CREATE_MODEL_VERSION)
async def create_model_version(request: Request) -> Response:
    body = await read_body(request, CreateVersionIn)
    # The operator's allowlist first (hosts, schemes); the store then checks that the source
    # lies inside the version's run, logged model or the artifact root.
    check_source_uri(request.app.state.locations, body.source)
    version = await call(
        registry_of(request).create_model_version,
        body.name,
        body.source,
        run_id=body.run_id or None,
        tags=[ModelVersionTag(t.key, t.value or "") for t in body.tags],
        run_link=body.run_link or None,
        description=body.description or None,
        model_id=body.model_id or None,
    )
    out = model_version_to_json(version)
    _event(request, "model_version.created", out)
    return reply({"model_version": out})


@serve(router, routes.GET_MODEL_VERSION)
async def get_model_version(request: Request) -> Response:
    query = await read_query(request, VersionIn)
    store = registry_of(request)
    return _version_answer(await call(store.get_model_version, query.name, query.version))


@serve(router, routes.UPDATE_MODEL_VERSION)
async def update_model_version(request: Request) -> Response:
    body = await read_body(request, UpdateVersionIn)
    update = registry_of(request).update_model_version
    return _version_answer(await call(update, body.name, body.version, body.description))


@serve(router, routes.DELETE_MODEL_VERSION)
async def delete_model_version(request: Request) -> Response:
    body = await read_body(request, VersionIn)
    await call(registry_of(request).delete_model_version, body.name, body.version)
    return reply()


@serve(router, routes.TRANSITION_STAGE)
async def transition_model_version_stage(request: Request) -> Response:
    body = await read_body(request, TransitionIn)
    found = await call(
        registry_of(request).transition_model_version_stage,
        body.name,
        body.version,
        body.stage,
        bool(body.archive_existing_versions),
    )
    return _version_answer(found)


@serve(router, routes.GET_DOWNLOAD_URI)
async def get_model_version_download_uri(request: Request) -> Response:
    query = await read_query(request, DownloadUriIn)
    if not query.name:
        raise missing("name")
    if not query.version:
        raise missing("version")
    uri = await call(registry_of(request).get_model_version_download_uri, query.name,
                     query.version)  # fmt: skip
    return reply({"artifact_uri": uri})


@serve(router, routes.SEARCH_MODEL_VERSIONS)
async def search_model_versions(request: Request) -> Response:
    return await _search(
        request,
        registry_of(request).search_model_versions,
        SEARCH_MODEL_VERSIONS_WIRE_DEFAULT,
        "model_versions",
        model_version_to_json,
    )


@serve(router, routes.SET_MODEL_VERSION_TAG)
async def set_model_version_tag(request: Request) -> Response:
    body = await read_body(request, VersionTagIn)
    tag = ModelVersionTag(body.key, body.value or "")
    await call(registry_of(request).set_model_version_tag, body.name, body.version, tag)
    payload = {"name": body.name, "version": body.version, "key": tag.key, "value": tag.value}
    _event(request, "model_version_tag.set", payload)
    return reply()


@serve(router, routes.DELETE_MODEL_VERSION_TAG)
async def delete_model_version_tag(request: Request) -> Response:
    body = await read_body(request, VersionTagKeyIn)
    await call(registry_of(request).delete_model_version_tag, body.name, body.version, body.key)
    payload = {"name": body.name, "version": body.version, "key": body.key}
    _event(request, "model_version_tag.deleted", payload)
    return reply()


@serve_at_full_path(
    root_router, routes.GET_MODEL_VERSION_ARTIFACT, openapi_extra=query_doc(VersionArtifactIn)
)
async def get_model_version_artifact(request: Request) -> Response:
    """One file of a version, read through the artifact proxy's repository for the version's
    stored location: the path is checked, and the location was checked when it was stored."""
    from mltrail.server import artifact_io
    from mltrail.server.api.artifacts import repository_for
    from mltrail.server.api.wire import bad_request
    from mltrail.store.artifact.paths import safe_relative_path

    query = await read_query(request, VersionArtifactIn)
    path = safe_relative_path(query.path)
    if not path:
        raise bad_request("Give the file to read in path, e.g. 'MLmodel'.")
    version = await call(registry_of(request).get_model_version, query.name, query.version)
    repo = await call(repository_for, request.app.state.settings, version.download_uri)
    return await call(artifact_io.download_response, repo, path)  # type: ignore[no-any-return]
