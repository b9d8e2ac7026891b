"""The runs table of one or more experiments: ``/experiments/<id>[,<id>...]``.

Everything the table shows lives in the URL (filter, sort, columns, pins, grouping, page),
and only one page of runs is ever read from the store, however many the experiment holds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mltrail.entities import Experiment, PagedList, Run, ViewType
from mltrail.exceptions import InvalidParameter, NotFound, SearchSyntaxError
from mltrail.search import paging
from mltrail.server.ui import columns as cols
from mltrail.server.ui.common import (
    PARENT_TAG,
    SOURCE_TAG,
    page_number,
    short_source,
    split_list,
    store_of,
)
from mltrail.server.ui.errors import html_errors, json_errors
from mltrail.server.ui.stats import experiment_stats
from mltrail.server.ui.templating import format_duration, format_value, render
from mltrail.server.ui.tree import group, nest, sort_within_page
from mltrail.store.base import TrackingStore

router = APIRouter()
PAGE_SIZES = (25, 50, 100, 250, 500)
_VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}


@dataclass
class TableState:
    """The table as the URL describes it."""

    filter: str = ""
    sort: str = "start_time"
    descending: bool = True
    columns: list[str] | None = None  # None: pick defaults from the page
    pinned: list[str] = field(default_factory=list)
    group_by: str = ""
    page: int = 1
    per: int = 100
    view: str = "active"


def table_state(request: Request) -> TableState:
    q = request.query_params
    chosen = q.getlist("col")
    per = page_number(q.get("per", 100))
    return TableState(
        filter=q.get("filter", ""),
        sort=q.get("sort", "start_time") or "start_time",
        descending=q.get("dir", "desc") != "asc",
        columns=None if not chosen else [c for c in chosen if c != "-"],
        pinned=q.getlist("pin"),
        group_by=q.get("group", ""),
        page=page_number(q.get("page")),
        per=per if per in PAGE_SIZES else 100,
        view=q.get("view", "active") if q.get("view") in _VIEWS else "active",
    )


def load_experiments(store: TrackingStore, ids: list[str]) -> list[Experiment]:
    if not ids:
        raise NotFound("No experiment id was given.")
    found = []
    for experiment_id in ids:
        if not experiment_id.isdigit():
            raise NotFound(f"No experiment with id {experiment_id!r} exists.")
        found.append(store.get_experiment(experiment_id))
    return found


def runs_listing(store: TrackingStore, ids: list[str], state: TableState) -> dict[str, Any]:
    """What the runs table shows, as plain data (also served as JSON)."""
    experiments = load_experiments(store, ids)
    sort_column = cols.parse_column(state.sort) or cols.Column(
        "start_time", "attribute", "start_time"
    )
    order = []
    if sort_column.order_field:
        order.append(f"{sort_column.order_field} {'DESC' if state.descending else 'ASC'}")
    error = None
    try:
        page = store.search_runs(
            ids,
            filter_string=state.filter or None,
            run_view_type=_VIEWS[state.view],
            max_results=state.per,
            order_by=order,
            page_token=paging.encode_page_token((state.page - 1) * state.per),
        )
    except SearchSyntaxError as exc:
        page, error = PagedList([]), {"message": exc.message, "position": exc.position}
    except InvalidParameter as exc:
        page, error = PagedList([]), {"message": exc.message, "position": None}
    runs: list[Run] = list(page)
    if not sort_column.order_field:
        runs = sort_within_page(runs, sort_column, state.descending)
    chosen = _chosen_columns(state, runs)
    group_column = cols.parse_column(state.group_by) if state.group_by else None

    def row(run: Run, depth: int, children: int) -> dict[str, Any]:
        return _row(run, chosen, depth, children, len(experiments) > 1)

    metric_columns = [c for c in chosen if c.kind == "metrics"]
    groups = group(runs, group_column, metric_columns, row) if group_column else None
    # Sorted by a value, the order is the point: children are listed where they rank, not
    # folded under a parent that may rank far away.
    nested = nest(runs) if sort_column.kind == "attribute" else [(r, 0, 0) for r in runs]
    rows = [] if groups is not None else [row(r, d, n) for r, d, n in nested]
    total = None
    if not state.filter and state.view == "active":
        total = sum(s.runs for s in experiment_stats(store, ids).values())
    first = (state.page - 1) * state.per
    return {
        "experiments": [{"experiment_id": e.experiment_id, "name": e.name} for e in experiments],
        "columns": [_column_dict(c, state) for c in chosen],
        "available": cols.available_keys(runs),
        "rows": rows,
        "groups": groups,
        "group_by": group_column.id if group_column else "",
        "error": error,
        "state": _state_dict(state, sort_column),
        "paging": {
            "page": state.page,
            "per": state.per,
            "first": first + 1 if runs else 0,
            "last": first + len(runs),
            "total": total,
            "has_next": bool(getattr(page, "token", None)),
        },
    }


def _chosen_columns(state: TableState, runs: list[Run]) -> list[cols.Column]:
    if state.columns is None:
        return cols.default_columns(runs)
    found = [cols.parse_column(c) for c in state.columns]
    return [c for c in found if c is not None and c.kind != "attribute"][:200]


def _column_dict(column: cols.Column, state: TableState) -> dict[str, Any]:
    return {
        "id": column.id,
        "kind": column.kind,
        "label": column.label,
        "pinned": column.id in state.pinned,
        "server_sort": column.order_field is not None,
    }


def _state_dict(state: TableState, sort_column: cols.Column) -> dict[str, Any]:
    return {
        "filter": state.filter,
        "sort": sort_column.id,
        "dir": "desc" if state.descending else "asc",
        "columns": state.columns,
        "pinned": state.pinned,
        "group": state.group_by,
        "per": state.per,
        "view": state.view,
        "page": state.page,
    }


def _row(
    run: Run, chosen: list[cols.Column], depth: int, children: int, show_experiment: bool
) -> dict[str, Any]:
    info = run.info
    cells = {}
    for column in chosen:
        value = cols.raw_value(run, column)
        cells[column.id] = format_value(value) if column.kind == "metrics" else (value or "")
    return {
        "run_id": info.run_id,
        "name": info.run_name,
        "experiment_id": info.experiment_id if show_experiment else None,
        "status": info.status,
        "deleted": info.lifecycle_stage == "deleted",
        "start_time": info.start_time,
        "duration": format_duration(info.start_time, info.end_time, info.status == "RUNNING"),
        "user": info.user_id,
        "source": short_source(run.data.tags.get(SOURCE_TAG, "")),
        "source_full": run.data.tags.get(SOURCE_TAG, ""),
        "parent_id": run.data.tags.get(PARENT_TAG),
        "depth": depth,
        "children": children,
        "cells": cells,
    }


def state_url(request: Request, **changes: Any) -> str:
    """This page's URL with some state changed; any change goes back to the first page."""
    items = [
        (k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "page"
    ]
    for key, value in changes.items():
        if isinstance(value, list):
            items.extend((key, str(v)) for v in value)
        elif value is not None and value != "":
            items.append((key, str(value)))
    root: str = request.scope.get("root_path", "")
    return root + request.url.path + ("?" + urlencode(items) if items else "")


def kept_params(request: Request, *dropped: str) -> list[tuple[str, str]]:
    """Query parameters a form must carry along as hidden inputs."""
    return [
        (k, v) for k, v in request.query_params.multi_items() if k not in dropped and k != "page"
    ]


@router.get("/experiments/{experiment_ids}", include_in_schema=False)
@html_errors
def runs_page(request: Request, experiment_ids: str) -> Response:
    ids = split_list(experiment_ids, limit=20)
    data = runs_listing(store_of(request), ids, table_state(request))
    title = ", ".join(e["name"] for e in data["experiments"])
    return render(
        request,
        "runs.html",
        {
            "title": title,
            "page_sizes": PAGE_SIZES,
            "ids": ",".join(ids),
            "url": functools.partial(state_url, request),
            "keep": functools.partial(kept_params, request),
            **data,
        },
    )


@router.get("/ajax-api/ui/runs", include_in_schema=False)
@json_errors
def runs_json(request: Request, experiment_ids: str = Query(...)) -> Any:
    ids = split_list(experiment_ids, limit=20)
    return runs_listing(store_of(request), ids, table_state(request))
