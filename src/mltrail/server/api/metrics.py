"""Metric history routes: one run's full history (paged), and sampled histories for charts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mltrail.exceptions import InvalidParameter
from mltrail.protocol import tracking_routes as routes
from mltrail.server.api.encode import metric_json, metrics_json, paged, reply
from mltrail.server.api.mount import serve
from mltrail.server.api.wire import (
    Int32,
    RequiredText,
    RunRef,
    Text,
    WireModel,
    call,
    read_query,
    store_of,
)

router = APIRouter(tags=["metrics"])

BULK_MAX_RUNS = 100
BULK_MAX_RESULTS = 25000


class HistoryIn(RunRef):
    metric_key: RequiredText
    max_results: Int32 | None = None
    page_token: Text | None = None


class BulkIntervalIn(WireModel):
    run_ids: list[RequiredText]
    metric_key: RequiredText
    start_step: Int32 | None = None
    end_step: Int32 | None = None
    max_results: Int32 | None = None


class BulkIn(WireModel):
    run_id: list[RequiredText]
    metric_key: RequiredText
    max_results: Int32 | None = None


@serve(router, routes.GET_METRIC_HISTORY)
async def get_metric_history(request: Request) -> Response:
    query = await read_query(request, HistoryIn)
    page = await call(
        store_of(request).get_metric_history,
        query.the_run_id(),
        query.metric_key,
        max_results=query.max_results,
        page_token=query.page_token or None,
    )
    return reply(paged("metrics", metrics_json(page), page.token))


@serve(router, routes.GET_METRIC_HISTORY_BULK_INTERVAL)
async def get_metric_history_bulk_interval(request: Request) -> Response:
    query = await read_query(request, BulkIntervalIn)
    points = await call(
        store_of(request).get_metric_history_bulk_interval,
        query.run_ids,
        query.metric_key,
        max_results=2500 if query.max_results is None else query.max_results,
        start_step=query.start_step,
        end_step=query.end_step,
    )
    return reply(paged("metrics", [metric_json(m, m.run_id) for m in points], None))


def _bulk_history(request: Request, query: BulkIn) -> list[dict[str, object]]:
    """As MLflow: runs in id order, each run's points in history order, and ``max_results``
    (at most 25000; more is taken as 25000) bounds the whole answer, not each run."""
    store = store_of(request)
    limit = min(BULK_MAX_RESULTS, query.max_results or BULK_MAX_RESULTS)
    out: list[dict[str, object]] = []
    for run_id in sorted(set(query.run_id)):
        if len(out) >= limit:
            break
        for m in store.get_metric_history(run_id, query.metric_key, max_results=limit - len(out)):
            out.append(metric_json(m, run_id))
    return out[:limit]


@serve(router, routes.GET_METRIC_HISTORY_BULK)
async def get_metric_history_bulk(request: Request) -> Response:
    """The whole history of one metric for up to 100 runs (used by the web UI)."""
    query = await read_query(request, BulkIn)
    if len(query.run_id) > BULK_MAX_RUNS:
        raise InvalidParameter(f"Ask for at most {BULK_MAX_RUNS} runs at a time.")
    if query.max_results is not None and query.max_results < 1:
        raise InvalidParameter("max_results must be a positive number.")
    return reply(paged("metrics", await call(_bulk_history, request, query), None))
