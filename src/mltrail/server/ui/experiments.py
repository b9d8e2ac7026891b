"""The experiments list (``/``) and its actions: create, rename, delete, restore."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from mltrail.entities import Experiment, ViewType
from mltrail.search import paging
from mltrail.server.ui.common import json_only, page_number, store_of
from mltrail.server.ui.errors import html_errors
from mltrail.server.ui.stats import experiment_stats
from mltrail.server.ui.templating import render
from mltrail.store.base import TrackingStore

router = APIRouter()
PAGE_SIZE = 100
_VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
_FILTER_MARKS = ("=", "<", ">", " like ", " ilike ", "tags.", "tag.")


def like_literal(text: str) -> str:
    """``text`` as a quoted, wildcard-free string of the search language."""
    escaped = "".join("\\" + ch if ch in "%_\\" else ch for ch in text)
    return "'" + escaped.replace("\\", "\\\\").replace("'", "''") + "'"


def name_filter(query: str) -> str | None:
    """A filter for what the user typed: the search language as is, else a name search."""
    query = query.strip()
    if not query:
        return None
    if any(mark in query.lower() for mark in _FILTER_MARKS):
        return query
    pattern = like_literal(query)[1:-1]
    return f"name ILIKE '%{pattern}%'"


def experiments_listing(
    store: TrackingStore, query: str = "", view: str = "active", page: int = 1
) -> dict[str, Any]:
    """What the experiments page shows, as plain data (also served as JSON)."""
    view_type = _VIEWS.get(view, ViewType.ACTIVE_ONLY)
    found = store.search_experiments(
        view_type=view_type,
        max_results=PAGE_SIZE,
        filter_string=name_filter(query),
        order_by=["last_update_time DESC"],
        page_token=paging.encode_page_token((page - 1) * PAGE_SIZE) if page > 1 else None,
    )
    stats = experiment_stats(store, [e.experiment_id for e in found])
    rows = [_row(e, stats.get(e.experiment_id)) for e in found]
    return {
        "experiments": rows,
        "query": query,
        "view": view if view in _VIEWS else "active",
        "page": page,
        "has_next": found.token is not None,
    }


def _row(exp: Experiment, stat: Any) -> dict[str, Any]:
    last = max(
        filter(None, [exp.last_update_time, stat.last_start if stat else None]), default=None
    )
    return {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "lifecycle_stage": exp.lifecycle_stage,
        "runs": stat.label if stat else "0",
        "last_activity": last,
        "creation_time": exp.creation_time,
        "artifact_location": exp.artifact_location,
        "description": exp.tags.get("mlflow.note.content", ""),
    }


@router.get("/", include_in_schema=False)
@html_errors
def experiments_page(
    request: Request, q: str = "", view: str = "active", page: str = "1"
) -> Response:
    data = experiments_listing(store_of(request), q, view, page_number(page))
    return render(request, "experiments.html", {"title": "Experiments", **data})


@router.get("/ajax-api/ui/experiments", include_in_schema=False)
def experiments_json(request: Request, q: str = "", view: str = "active", page: str = "1") -> Any:
    return experiments_listing(store_of(request), q, view, page_number(page))


class ExperimentIn(BaseModel):
    experiment_id: str = ""
    name: str = ""


@router.post(
    "/ajax-api/ui/experiments/create", dependencies=[Depends(json_only)], include_in_schema=False
)
def create_experiment(request: Request, body: ExperimentIn) -> Any:
    experiment_id = store_of(request).create_experiment(body.name.strip())
    return JSONResponse({"experiment_id": experiment_id})


@router.post(
    "/ajax-api/ui/experiments/rename", dependencies=[Depends(json_only)], include_in_schema=False
)
def rename_experiment(request: Request, body: ExperimentIn) -> Any:
    store_of(request).rename_experiment(body.experiment_id, body.name.strip())
    return {"ok": True}


@router.post(
    "/ajax-api/ui/experiments/delete", dependencies=[Depends(json_only)], include_in_schema=False
)
def delete_experiment(request: Request, body: ExperimentIn) -> Any:
    store_of(request).delete_experiment(body.experiment_id)
    return {"ok": True}


@router.post(
    "/ajax-api/ui/experiments/restore", dependencies=[Depends(json_only)], include_in_schema=False
)
def restore_experiment(request: Request, body: ExperimentIn) -> Any:
    store_of(request).restore_experiment(body.experiment_id)
    return {"ok": True}
