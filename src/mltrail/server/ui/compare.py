"""Comparing runs: ``/compare?runs=a,b,c``: a diff table, overlaid and grouped metric
charts, parallel coordinates and a scatter of any two values (drawn in the browser)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mltrail.entities import Run
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.server.ui.common import (
    SOURCE_TAG,
    finite,
    json_response,
    short_source,
    split_list,
    store_of,
)
from mltrail.server.ui.errors import html_errors
from mltrail.server.ui.templating import format_duration, format_time, format_value, render
from mltrail.store.base import TrackingStore

router = APIRouter()
MAX_RUNS = 100


def _diff_rows(
    keys: list[str], values: list[dict[str, Any]], fmt: Any = str
) -> list[dict[str, Any]]:
    rows = []
    for key in keys:
        raw = [v.get(key) for v in values]
        shown = ["" if x is None else fmt(x) for x in raw]
        rows.append({"key": key, "cells": shown, "same": len(set(shown)) <= 1})
    return rows


def comparison(store: TrackingStore, run_ids: list[str]) -> dict[str, Any]:
    """What the compare page shows, as plain data (also served as JSON)."""
    if not run_ids:
        raise InvalidParameter("Choose runs to compare: /compare?runs=<id>,<id>.")
    if len(run_ids) > MAX_RUNS:
        raise InvalidParameter(f"Compare at most {MAX_RUNS} runs at once.")
    runs: list[Run] = []
    for run_id in run_ids:
        try:
            runs.append(store.get_run(run_id))
        except NotFound:
            raise NotFound(f"There is no run with id {run_id!r}.") from None
    params = [r.data.params for r in runs]
    metrics = [{k: finite(v) for k, v in r.data.metrics.items()} for r in runs]
    tags = [{k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")} for r in runs]
    attributes = [
        {
            "Status": r.info.status,
            "Started": format_time(r.info.start_time),
            "Duration": format_duration(r.info.start_time, r.info.end_time),
            "User": r.info.user_id,
            "Source": short_source(r.data.tags.get(SOURCE_TAG, "")),
            "Experiment": r.info.experiment_id,
        }
        for r in runs
    ]
    param_keys = sorted({k for p in params for k in p})
    metric_keys = sorted({k for m in metrics for k in m})
    tag_keys = sorted({k for t in tags for k in t})
    return {
        "runs": [
            {
                "run_id": r.info.run_id,
                "name": r.info.run_name or r.info.run_id[:8],
                "experiment_id": r.info.experiment_id,
                "params": params[i],
                "metrics": metrics[i],
                "tags": tags[i],
            }
            for i, r in enumerate(runs)
        ],
        "sections": [
            {"title": "Attributes", "rows": _diff_rows(list(attributes[0]), attributes)},
            {"title": "Parameters", "rows": _diff_rows(param_keys, params)},
            {"title": "Metrics (latest)", "rows": _diff_rows(metric_keys, metrics, format_value)},
            {"title": "Tags", "rows": _diff_rows(tag_keys, tags)},
        ],
        "param_keys": param_keys,
        "metric_keys": metric_keys,
        "tag_keys": tag_keys,
    }


@router.get("/compare", include_in_schema=False)
@html_errors
def compare_page(request: Request, runs: str = "") -> Response:
    data = comparison(store_of(request), split_list(runs, limit=MAX_RUNS + 1))
    return render(request, "compare.html", {"title": "Compare runs", "data": data, **data})


@router.get("/ajax-api/ui/compare", include_in_schema=False)
def compare_json(request: Request, runs: str = "") -> Any:
    return json_response(comparison(store_of(request), split_list(runs, limit=MAX_RUNS + 1)))
