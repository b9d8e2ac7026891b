"""Experiment routes: create, read, search, rename, delete/restore, tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mltrail.entities import ExperimentTag
from mltrail.exceptions import NotFound
from mltrail.protocol import tracking_routes as routes
from mltrail.server.api.encode import experiment_json, paged, reply
from mltrail.server.api.mount import serve
from mltrail.server.api.readable_pages import readable_page
from mltrail.server.api.wire import (
    VIEW_TYPES,
    Int64,
    RequiredText,
    Text,
    ViewTypeName,
    WireModel,
    call,
    read_body,
    read_query,
    store_of,
)
from mltrail.server.idempotency import once

router = APIRouter(tags=["experiments"])


class ExperimentTagIn(WireModel):
    key: RequiredText
    value: Text | None = None


class ExperimentCreateIn(WireModel):
    name: RequiredText
    artifact_location: Text | None = None
    tags: list[ExperimentTagIn] = []


class ExperimentIdIn(WireModel):
    experiment_id: RequiredText


class ExperimentByNameIn(WireModel):
    experiment_name: RequiredText


class ExperimentSearchIn(WireModel):
    max_results: Int64 | None = None
    page_token: Text | None = None
    filter: Text | None = None
    order_by: list[Text] = []
    view_type: ViewTypeName | None = None


class ExperimentUpdateIn(WireModel):
    experiment_id: RequiredText
    new_name: RequiredText


class ExperimentSetTagIn(WireModel):
    experiment_id: RequiredText
    key: RequiredText
    value: Text | None = None


class ExperimentDeleteTagIn(WireModel):
    experiment_id: RequiredText
    key: RequiredText


@serve(router, routes.CREATE_EXPERIMENT)
async def create_experiment(request: Request) -> Response:
    return await once(request, "experiments/create", lambda: _create_experiment(request))


async def _create_experiment(request: Request) -> Response:
    body = await read_body(request, ExperimentCreateIn)
    tags = [ExperimentTag(t.key, t.value or "") for t in body.tags]
    location = None
    if body.artifact_location:  # the server decides where artifacts live: see locations.py
        location = request.app.state.locations.check(body.artifact_location)
    new_id = await call(store_of(request).create_experiment, body.name, location, tags)
    return reply({"experiment_id": new_id})


@serve(router, routes.GET_EXPERIMENT)
async def get_experiment(request: Request) -> Response:
    query = await read_query(request, ExperimentIdIn)
    exp = await call(store_of(request).get_experiment, query.experiment_id)
    return reply({"experiment": experiment_json(exp)})


@serve(router, routes.GET_EXPERIMENT_BY_NAME)
async def get_experiment_by_name(request: Request) -> Response:
    query = await read_query(request, ExperimentByNameIn)
    exp = await call(store_of(request).get_experiment_by_name, query.experiment_name)
    if exp is None:
        # The mlflow client turns exactly this code into "create it" in set_experiment.
        raise NotFound(f"No experiment named '{query.experiment_name}' exists.")
    return reply({"experiment": experiment_json(exp)})


async def _search(request: Request, query: ExperimentSearchIn) -> Response:
    """With --auth, only experiments the caller may read are listed, in full pages
    (``readable_pages``)."""
    # MLflow rejects a missing max_results; the client always sends it, so a default is kinder.
    max_results = 1000 if query.max_results is None else query.max_results
    search = store_of(request).search_experiments

    def fetch(size: int, token: str | None) -> Any:
        return search(
            view_type=VIEW_TYPES[query.view_type or "ACTIVE_ONLY"],
            max_results=size,
            filter_string=query.filter or None,
            order_by=query.order_by or None,
            page_token=token,
        )

    may_read = request.scope.get("mltrail.can_read_experiment")  # set for non-admins, --auth
    token = query.page_token or None
    if may_read is None:
        page = await call(fetch, max_results, token)
    else:
        keep = lambda exp: bool(may_read(exp.experiment_id))  # noqa: E731
        page = await call(readable_page, fetch, keep, max_results, token)
    return reply(paged("experiments", [experiment_json(e) for e in page], page.token))


@serve(router, routes.SEARCH_EXPERIMENTS)
async def search_experiments(request: Request) -> Response:
    return await _search(request, await read_body(request, ExperimentSearchIn))


@serve(router, routes.SEARCH_EXPERIMENTS_GET)
async def search_experiments_get(request: Request) -> Response:
    return await _search(request, await read_query(request, ExperimentSearchIn))


@serve(router, routes.DELETE_EXPERIMENT)
async def delete_experiment(request: Request) -> Response:
    body = await read_body(request, ExperimentIdIn)
    await call(store_of(request).delete_experiment, body.experiment_id)
    return reply()


@serve(router, routes.RESTORE_EXPERIMENT)
async def restore_experiment(request: Request) -> Response:
    body = await read_body(request, ExperimentIdIn)
    await call(store_of(request).restore_experiment, body.experiment_id)
    return reply()


@serve(router, routes.UPDATE_EXPERIMENT)
async def update_experiment(request: Request) -> Response:
    body = await read_body(request, ExperimentUpdateIn)
    await call(store_of(request).rename_experiment, body.experiment_id, body.new_name)
    return reply()


@serve(router, routes.SET_EXPERIMENT_TAG)
async def set_experiment_tag(request: Request) -> Response:
    body = await read_body(request, ExperimentSetTagIn)
    tag = ExperimentTag(body.key, body.value or "")
    await call(store_of(request).set_experiment_tag, body.experiment_id, tag)
    return reply()


@serve(router, routes.DELETE_EXPERIMENT_TAG)
async def delete_experiment_tag(request: Request) -> Response:
    body = await read_body(request, ExperimentDeleteTagIn)
    await call(store_of(request).delete_experiment_tag, body.experiment_id, body.key)
    return reply()
