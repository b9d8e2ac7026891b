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
from mltrail.server.api.encode import paged, reply, run_info_json, run_json
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
    body_doc,
    call,
    query_doc,
    read_body,
    read_body_dict,
    read_query,
    store_of,
    validate,
)
from mltrail.server.locations import check_dataset_source
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


@router.post("/runs/create", openapi_extra=body_doc(RunCreateIn))
async def create_run(request: Request) -> Response:
    body = await read_body(request, RunCreateIn)
    run = await call(
        store_of(request).create_run,
        experiment_id=body.experiment_id or "0",
        user_id=body.user_id or "",
        start_time=body.start_time,
        tags=[RunTag(t.key, t.value or "") for t in body.tags],
        run_name=body.run_name or None,
    )
    return reply({"run": run_json(run)})


@router.post("/runs/update", openapi_extra=body_doc(RunUpdateIn))
async def update_run(request: Request) -> Response:
    body = await read_body(request, RunUpdateIn)
    info = await call(
        store_of(request).update_run_info,
        body.the_run_id(),
        status=body.status,
        end_time=body.end_time,
        run_name=body.run_name or None,
    )
    return reply({"run_info": run_info_json(info)})


@router.post("/runs/delete", openapi_extra=body_doc(RunRef))
async def delete_run(request: Request) -> Response:
    body = await read_body(request, RunRef)
    await call(store_of(request).delete_run, body.the_run_id())
    return reply()


@router.post("/runs/restore", openapi_extra=body_doc(RunRef))
async def restore_run(request: Request) -> Response:
    body = await read_body(request, RunRef)
    await call(store_of(request).restore_run, body.the_run_id())
    return reply()


@router.get("/runs/get", openapi_extra=query_doc(RunRef))
async def get_run(request: Request) -> Response:
    query = await read_query(request, RunRef)
    run = await call(store_of(request).get_run, query.the_run_id())
    return reply({"run": run_json(run)})


@router.post("/runs/log-metric", openapi_extra=body_doc(LogMetricIn))
async def log_metric(request: Request) -> Response:
    body = await read_body(request, LogMetricIn)
    await call(store_of(request).log_batch, body.the_run_id(), metrics=[body.to_metric()])
    return reply()


@router.post("/runs/log-parameter", openapi_extra=body_doc(LogParamIn))
async def log_parameter(request: Request) -> Response:
    body = await read_body(request, LogParamIn)
    param = Param(body.key, body.value or "")
    await call(store_of(request).log_batch, body.the_run_id(), params=[param])
    return reply()


@router.post("/runs/set-tag", openapi_extra=body_doc(SetTagIn))
async def set_tag(request: Request) -> Response:
    body = await read_body(request, SetTagIn)
    tag = RunTag(body.key, body.value or "")
    await call(store_of(request).log_batch, body.the_run_id(), tags=[tag])
    return reply()


@router.post("/runs/delete-tag", openapi_extra=body_doc(DeleteTagIn))
async def delete_tag(request: Request) -> Response:
    body = await read_body(request, DeleteTagIn)
    await call(store_of(request).delete_tag, body.the_run_id(), body.key)
    return reply()


def _count(data: dict[str, object], name: str) -> int:
    items = data.get(name)
    return len(items) if isinstance(items, list) else 0


@router.post("/runs/log-batch", openapi_extra=body_doc(LogBatchIn))
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
    return reply()


@router.post("/runs/log-inputs", openapi_extra=body_doc(LogInputsIn))
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


@router.post("/runs/search", openapi_extra=body_doc(RunSearchIn))
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
