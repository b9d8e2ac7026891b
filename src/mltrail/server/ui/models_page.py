"""The model registry pages: the list of registered models (``/models``), one model with its
versions, description and aliases (``/models/<name>``), and one version with its source run,
signature, input example and run data beside another version's
(``/models/<name>/versions/<n>``); plus the small JSON actions those pages call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from mltrail.entities import ModelVersion
from mltrail.entities.tracking import collect_pages
from mltrail.exceptions import MltrailException
from mltrail.search import paging
from mltrail.server.ui.common import json_only, page_number, store_of
from mltrail.server.ui.errors import html_errors
from mltrail.server.ui.experiments import like_literal
from mltrail.server.ui.model_files import model_summary
from mltrail.server.ui.templating import render
from mltrail.store.registry_base import ModelRegistryStore

router = APIRouter()
PAGE_SIZE = 50
_FILTER_MARKS = ("=", " like ", " ilike ", "tags.", "tag.", " in ")


def registry_of(request: Request) -> ModelRegistryStore:
    return request.app.state.registry_store  # type: ignore[no-any-return]


def model_filter(query: str) -> str | None:
    """The search language as typed, else a case-insensitive name search."""
    query = query.strip()
    if not query:
        return None
    if any(mark in query.lower() for mark in _FILTER_MARKS):
        return query
    return f"name ILIKE '%{like_literal(query)[1:-1]}%'"


def _all_versions(registry: ModelRegistryStore, name: str) -> list[ModelVersion]:
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    return collect_pages(
        lambda size, token: registry.search_model_versions(
            f"name = '{quoted}'", size, ["version_number DESC"], token
        ),
        1000,
    )


@router.get("/models", include_in_schema=False)
@html_errors
def models_page(request: Request, q: str = "", page: str = "1") -> Response:
    number = page_number(page)
    found = registry_of(request).search_registered_models(
        model_filter(q),
        PAGE_SIZE,
        ["name ASC"],
        paging.encode_page_token((number - 1) * PAGE_SIZE) if number > 1 else None,
    )
    models = [
        {
            "name": m.name,
            "latest": max((v.version for v in m.latest_versions), default=None),
            "aliases": sorted(m.aliases.items()),
            "tags": sorted(m.tags.items()),
            "description": m.description or "",
            "updated": m.last_updated_timestamp,
        }
        for m in found
    ]
    context = {"title": "Models", "models": models, "query": q, "page": number,
               "has_next": found.token is not None}  # fmt: skip
    return render(request, "models.html", context)


@router.get("/models/{name}", include_in_schema=False)
@html_errors
def model_page(request: Request, name: str) -> Response:
    registry = registry_of(request)
    model = registry.get_registered_model(name)
    versions = _all_versions(registry, name)
    context = {
        "title": f"Model {model.name}",
        "model": model,
        "aliases": sorted(model.aliases.items()),
        "tags": sorted(model.tags.items()),
        "versions": versions,
    }
    return render(request, "model.html", context)


@router.get("/models/{name}/versions/{version}", include_in_schema=False)
@html_errors
def version_page(request: Request, name: str, version: str, compare: str = "") -> Response:
    registry = registry_of(request)
    found = registry.get_model_version(name, version)
    others = [v for v in _all_versions(registry, name) if v.version != found.version]
    other = next((v for v in others if str(v.version) == compare), None)
    if other is None and others and not compare:
        other = others[0]
    context = {
        "title": f"{name} version {found.version}",
        "version": found,
        "others": others,
        "other": other,
        "files": model_summary(request, found),
        "side_by_side": _side_by_side(request, found, other),
    }
    return render(request, "model_version.html", context)


def _run_data(request: Request, run_id: str | None) -> tuple[dict[str, str], dict[str, Any]]:
    if not run_id:
        return {}, {}
    try:
        run = store_of(request).get_run(run_id)
    except MltrailException:
        return {}, {}
    return run.data.params, run.data.metrics


def _side_by_side(
    request: Request, version: ModelVersion, other: ModelVersion | None
) -> dict[str, list[tuple[str, Any, Any]]]:
    """Params and metrics of the two versions' runs, one row a key."""
    params, metrics = _run_data(request, version.run_id)
    other_params, other_metrics = _run_data(request, other.run_id if other else None)
    return {
        "params": [(k, params.get(k), other_params.get(k))
                   for k in sorted({*params, *other_params})],  # fmt: skip
        "metrics": [(k, metrics.get(k), other_metrics.get(k))
                    for k in sorted({*metrics, *other_metrics})],  # fmt: skip
    }


# -- actions ------------------------------------------------------------------------------------


class DescriptionIn(BaseModel):
    name: str
    version: str = ""
    description: str = ""


class AliasIn(BaseModel):
    name: str
    alias: str
    version: str = ""


@router.post(
    "/ajax-api/ui/models/description", dependencies=[Depends(json_only)], include_in_schema=False
)
def set_description(request: Request, body: DescriptionIn) -> Any:
    registry = registry_of(request)
    if body.version:
        registry.update_model_version(body.name, body.version, body.description)
    else:
        registry.update_registered_model(body.name, body.description)
    return {"ok": True}


@router.post(
    "/ajax-api/ui/models/set-alias", dependencies=[Depends(json_only)], include_in_schema=False
)
def set_alias(request: Request, body: AliasIn) -> Any:
    registry_of(request).set_registered_model_alias(body.name, body.alias.strip(), body.version)
    _event(request, "model_version_alias.created", body.model_dump())
    return {"ok": True}


@router.post(
    "/ajax-api/ui/models/delete-alias", dependencies=[Depends(json_only)], include_in_schema=False
)
def delete_alias(request: Request, body: AliasIn) -> Any:
    registry_of(request).delete_registered_model_alias(body.name, body.alias)
    _event(request, "model_version_alias.deleted", {"name": body.name, "alias": body.alias})
    return {"ok": True}


def _event(request: Request, event: str, payload: dict[str, Any]) -> None:
    hooks = getattr(request.app.state, "webhooks", None)
    if hooks is not None:
        hooks.emit(event, payload)
