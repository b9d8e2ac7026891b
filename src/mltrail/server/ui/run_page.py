"""The page of one run: ``/runs/<run_id>``: overview, params, metrics, tags, charts and
artifacts (the last two are filled in by the browser from JSON routes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mltrail.entities import Run, ViewType
from mltrail.exceptions import MltrailException, NotFound
from mltrail.server.ui.common import (
    GIT_COMMIT_TAG,
    NOTE_TAG,
    PARENT_TAG,
    SOURCE_TAG,
    finite,
    json_response,
    settings_of,
    store_of,
)
from mltrail.server.ui.errors import html_errors
from mltrail.server.ui.markdown import render_markdown
from mltrail.server.ui.templating import format_duration, render
from mltrail.store.base import TrackingStore

router = APIRouter()
MAX_CHILDREN = 200


def run_overview(store: TrackingStore, run_id: str) -> dict[str, Any]:
    """What the run page shows, as plain data."""
    if not run_id or len(run_id) > 64:
        raise NotFound(f"There is no run with id {run_id!r}.")
    try:
        run = store.get_run(run_id)
    except NotFound:
        raise NotFound(f"There is no run with id {run_id!r}.") from None
    info, data = run.info, run.data
    try:
        experiment = store.get_experiment(info.experiment_id)
        experiment_name = experiment.name
    except MltrailException:
        experiment_name = info.experiment_id
    user_tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
    system_tags = {k: v for k, v in data.tags.items() if k.startswith("mlflow.")}
    note = data.tags.get(NOTE_TAG, "")
    return {
        "run": {
            "run_id": info.run_id,
            "name": info.run_name,
            "status": info.status,
            "deleted": info.lifecycle_stage == "deleted",
            "start_time": info.start_time,
            "end_time": info.end_time,
            "duration": format_duration(info.start_time, info.end_time, info.status == "RUNNING"),
            "user": info.user_id,
            "source": data.tags.get(SOURCE_TAG, ""),
            "source_type": data.tags.get("mlflow.source.type", ""),
            "git_commit": data.tags.get(GIT_COMMIT_TAG, ""),
            "artifact_uri": info.artifact_uri,
            "experiment_id": info.experiment_id,
            "experiment_name": experiment_name,
        },
        "note": note,
        "note_html": render_markdown(note),
        "parent": _parent(store, data.tags.get(PARENT_TAG)),
        "children": _children(store, run),
        "params": sorted(data.params.items()),
        "metrics": [
            {"key": m.key, "value": finite(m.value), "step": m.step, "timestamp": m.timestamp}
            for m in sorted(data.metric_objs, key=lambda m: m.key)
        ],
        "tags": sorted(user_tags.items()),
        "system_tags": sorted(system_tags.items()),
        "datasets": [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
            }
            for d in run.inputs.dataset_inputs
        ],
    }


def _parent(store: TrackingStore, parent_id: str | None) -> dict[str, Any] | None:
    if not parent_id:
        return None
    try:
        parent = store.get_run(parent_id)
    except MltrailException:
        return {"run_id": parent_id, "name": parent_id, "missing": True}
    return {"run_id": parent_id, "name": parent.info.run_name, "missing": False}


def _children(store: TrackingStore, run: Run) -> list[dict[str, Any]]:
    quoted = run.info.run_id.replace("'", "''")
    found = store.search_runs(
        [run.info.experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{quoted}'",
        run_view_type=ViewType.ALL,
        max_results=MAX_CHILDREN,
    )
    return [
        {"run_id": c.info.run_id, "name": c.info.run_name, "status": c.info.status} for c in found
    ]


def live_summary(store: TrackingStore, run_id: str) -> dict[str, Any]:
    """Status and latest metrics, polled by the page while the run is RUNNING."""
    run = store.get_run(run_id)
    return {
        "status": run.info.status,
        "end_time": run.info.end_time,
        "duration": format_duration(
            run.info.start_time, run.info.end_time, run.info.status == "RUNNING"
        ),
        "metrics": {
            m.key: {"value": finite(m.value), "step": m.step} for m in run.data.metric_objs
        },
    }


@router.get("/runs/{run_id}", include_in_schema=False)
@html_errors
def run_page(request: Request, run_id: str) -> Response:
    from mltrail.server.ui.model_views import run_models

    store = store_of(request)
    data = run_overview(store, run_id)
    data["models"] = run_models(store, settings_of(request), run_id)
    return render(request, "run.html", {"title": data["run"]["name"] or run_id, **data})


@router.get("/ajax-api/ui/runs/{run_id}", include_in_schema=False)
def run_json(request: Request, run_id: str) -> Any:
    return json_response(run_overview(store_of(request), run_id))


@router.get("/ajax-api/ui/runs/{run_id}/summary", include_in_schema=False)
def run_summary_json(request: Request, run_id: str) -> Any:
    return live_summary(store_of(request), run_id)
