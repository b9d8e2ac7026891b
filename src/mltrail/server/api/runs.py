"""Run routes: create, read, update, delete/restore, logging, inputs, search."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mltrail.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    Metric,
    Param,
    RunTag,
)
from mltrail.exceptions import MltrailException
from mltrail.protocol import tracking_routes as routes
from mltrail.server.api.encode import paged, reply, run_info_json, run_json
from mltrail.server.api.mount import serve
from mltrail.server.api.wire import (
    VIEW_TYPES,
    Int32,
    Int64,
    RequiredText,
    RunRef,
    RunStatusName,
    Text,
    ViewTypeName,
    WireModel,
    call,
    read_body,
    read_body_dict,
    read_query,
    store_of,
    validate,
)
from mltrail.server.idempotency import once
from mltrail.server.leases import note_write
from mltrail.server.locations import check_dataset_source
from mltrail.server.metrics import count_points
from mltrail.utils.validation import validate_batch_size

router = APIRouter(tags=["runs"])


class RunTagIn(WireModel):
    key: RequiredText
    value: Text | None = None


class ParamIn(WireModel):
    key: RequiredText
    value: Text | None = None


class MetricIn(WireModel):
    key: RequiredText
    value: float
    timestamp: Int64
    step: Int64 | None = None
    model_id: Text | None = None
    dataset_name: Text | None = None
    dataset_digest: Text | None = None

    def to_metric(self) -> Metric:
        # positional: this runs a thousand times per batch
        return Metric(
            self.key,
            self.value,
            self.timestamp,
            self.step or 0,
            None,
            self.dataset_name,
            self.dataset_digest,
            self.model_id,
        )


class RunCreateIn(WireModel):
    experiment_id: Text | None = None
    user_id: Text | None = None
    run_name: Text | None = None
    start_time: Int64 | None = None
    tags: list[RunTagIn] = []


class RunUpdateIn(RunRef):
    status: RunStatusName | None = None
    end_time: Int64 | None = None
    run_name: Text | None = None


class LogMetricIn(RunRef, MetricIn):
    pass


class LogParamIn(RunRef, ParamIn):
    pass


class SetTagIn(RunRef, RunTagIn):
    pass


class DeleteTagIn(RunRef):
    key: RequiredText


class LogBatchIn(RunRef):
    metrics: list[MetricIn] = []
    params: list[ParamIn] = []
    tags: list[RunTagIn] = []


class InputTagIn(WireModel):
    key: RequiredText
    value: Text


class DatasetIn(WireModel):
    name: RequiredText
    digest: RequiredText
    source_type: RequiredText
    source: RequiredText
    schema_: Text | None = Field(default=None, alias="schema")  # "schema" is taken by pydantic
    profile: Text | None = None


class DatasetInputIn(WireModel):
    tags: list[InputTagIn] = []
    dataset: DatasetIn


class ModelInputIn(WireModel):
    model_id: RequiredText


class LogInputsIn(RunRef):
    datasets: list[DatasetInputIn] = []
    models: list[ModelInputIn] = []


class RunSearchIn(WireModel):
    experiment_ids: list[Text] = []
    filter: Text | None = None
    run_view_type: ViewTypeName | None = None
    max_results: Int32 | None = None
    order_by: list[Text] = []
    page_token: Text | None = None


@serve(router, routes.CREATE_RUN)
async def create_run(request: Request) -> Response:
    return await once(request, "runs/create", lambda: _create_run(request))


async def _create_run(request: Request) -> Response:
    body = await read_body(request, RunCreateIn)
    run = await call(
        store_of(request).create_run,
        experiment_id=body.experiment_id or "0",
        user_id=body.user_id or "",
        start_time=body.start_time,
        tags=[RunTag(t.key, t.value or "") for t in body.tags],
        run_name=body.run_name or None,
    )
    note_write(request.app.state, run.info.run_id)
    return reply({"run": run_json(run)})


@serve(router, routes.UPDATE_RUN)
async def update_run(request: Request) -> Response:
    body = await read_body(request, RunUpdateIn)
    if body.status in (None, "RUNNING"):
        note_write(request.app.state, body.the_run_id())
    info = await call(
        store_of(request).update_run_info,
        body.the_run_id(),
        status=body.status,
        end_time=body.end_time,
        run_name=body.run_name or None,
    )
    return reply({"run_info": run_info_json(info)})


@serve(router, routes.DELETE_RUN)
async def delete_run(request: Request) -> Response:
    body = await read_body(request, RunRef)
    await call(store_of(request).delete_run, body.the_run_id())
    return reply()


@serve(router, routes.RESTORE_RUN)
async def restore_run(request: Request) -> Response:
    body = await read_body(request, RunRef)
    await call(store_of(request).restore_run, body.the_run_id())
    return reply()


@serve(router, routes.GET_RUN)
async def get_run(request: Request) -> Response:
    query = await read_query(request, RunRef)
    run = await call(store_of(request).get_run, query.the_run_id())
    return reply({"run": run_json(run)})


@serve(router, routes.LOG_METRIC)
async def log_metric(request: Request) -> Response:
    body = await read_body(request, LogMetricIn)
    await call(store_of(request).log_batch, body.the_run_id(), metrics=[body.to_metric()])
    note_write(request.app.state, body.the_run_id())
    count_points(request.app.state, 1)
    return reply()


@serve(router, routes.LOG_PARAM)
async def log_parameter(request: Request) -> Response:
    body = await read_body(request, LogParamIn)
    param = Param(body.key, body.value or "")
    await call(store_of(request).log_batch, body.the_run_id(), params=[param])
    note_write(request.app.state, body.the_run_id())
    return reply()


@serve(router, routes.SET_TAG)
async def set_tag(request: Request) -> Response:
    body = await read_body(request, SetTagIn)
    tag = RunTag(body.key, body.value or "")
    await call(store_of(request).log_batch, body.the_run_id(), tags=[tag])
    note_write(request.app.state, body.the_run_id())
    return reply()


@serve(router, routes.DELETE_TAG)
async def delete_tag(request: Request) -> Response:
    body = await read_body(request, DeleteTagIn)
    await call(store_of(request).delete_tag, body.the_run_id(), body.key)
    return reply()


def _count(data: dict[str, object], name: str) -> int:
    items = data.get(name)
    return len(items) if isinstance(items, list) else 0


@serve(router, routes.LOG_BATCH)
async def log_batch(request: Request) -> Response:
    data = await read_body_dict(request)
    # Check the sizes before validating thousands of items that would be refused anyway.
    validate_batch_size(_count(data, "metrics"), _count(data, "params"), _count(data, "tags"))
    body = validate(LogBatchIn, data)
    await call(
        store_of(request).log_batch,
        body.the_run_id(),
        metrics=[m.to_metric() for m in body.metrics],
        params=[Param(p.key, p.value or "") for p in body.params],
        tags=[RunTag(t.key, t.value or "") for t in body.tags],
    )
    note_write(request.app.state, body.the_run_id())
    count_points(request.app.state, len(body.metrics))
    return reply()


@serve(router, routes.LOG_INPUTS)
async def log_inputs(request: Request) -> Response:
    body = await read_body(request, LogInputsIn)
    for d in body.datasets:
        check_dataset_source(request.app.state.locations, d.dataset.source)
    datasets = [
        DatasetInput(
            Dataset(
                name=d.dataset.name,
                digest=d.dataset.digest,
                source_type=d.dataset.source_type,
                source=d.dataset.source,
                schema=d.dataset.schema_,
                profile=d.dataset.profile,
            ),
            tuple(InputTag(t.key, t.value) for t in d.tags),
        )
        for d in body.datasets
    ]
    models = [LoggedModelInput(m.model_id) for m in body.models]
    await call(store_of(request).log_inputs, body.the_run_id(), datasets, models)
    return reply()


@serve(router, routes.SEARCH_RUNS)
async def search_runs(request: Request) -> Response:
    body = await read_body(request, RunSearchIn)
    if not body.experiment_ids:
        return reply()
    page = await call(
        store_of(request).search_runs,
        experiment_ids=body.experiment_ids,
        filter_string=body.filter or None,
        run_view_type=VIEW_TYPES[body.run_view_type or "ACTIVE_ONLY"],
        max_results=1000 if body.max_results is None else body.max_results,
        order_by=body.order_by or None,
        page_token=body.page_token or None,
    )
    return reply(paged("runs", [run_json(r) for r in page], page.token))


@serve(router, routes.RUN_HEARTBEAT)
async def heartbeat(request: Request) -> Response:
    """mltrail's extension: the client says a run's process is alive. Renews the run's lease
    (a run the lease had marked KILLED is RUNNING again); answers the lease in seconds, so
    the client knows how often to call, and the run's status, so it knows when to stop."""
    body = await read_body(request, RunRef)
    run_id = body.the_run_id()
    leases = request.app.state.leases
    if leases is None:
        raise MltrailException(
            "This server keeps no run leases (started with --run-lease none).",
            error_code="NOT_IMPLEMENTED",
        )
    await call(store_of(request).get_run, run_id)  # 404 for an unknown run
    expires = await call(leases.heartbeat, run_id)
    run = await call(store_of(request).get_run, run_id)
    return reply(
        {
            "lease_seconds": leases.policy.lease_seconds,
            "expires_ms": expires,
            "status": run.info.status,
        }
    )
