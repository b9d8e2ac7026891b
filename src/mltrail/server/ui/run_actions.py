"""Changes made from the UI to runs: rename, description, tags, delete and restore (one or
many runs at once). JSON in, JSON out; errors in MLflow's shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from mltrail.entities import RunTag
from mltrail.exceptions import InvalidParameter
from mltrail.server.ui.common import NOTE_TAG, json_only, store_of
from mltrail.server.ui.markdown import render_markdown

router = APIRouter(dependencies=[Depends(json_only)])
MAX_BULK = 1000


class RunsIn(BaseModel):
    run_ids: list[str] = Field(default_factory=list)


class TagIn(BaseModel):
    run_ids: list[str] = Field(default_factory=list)
    key: str = ""
    value: str = ""


class RenameIn(BaseModel):
    run_id: str
    name: str


class NoteIn(BaseModel):
    run_id: str
    text: str = ""


def _check_bulk(run_ids: list[str]) -> list[str]:
    if not run_ids:
        raise InvalidParameter("Select at least one run.")
    if len(run_ids) > MAX_BULK:
        raise InvalidParameter(f"Select at most {MAX_BULK} runs at once.")
    return list(dict.fromkeys(run_ids))


@router.post("/ajax-api/ui/runs/delete", include_in_schema=False)
def delete_runs(request: Request, body: RunsIn) -> Any:
    store = store_of(request)
    for run_id in _check_bulk(body.run_ids):
        store.delete_run(run_id)
    return {"ok": True, "count": len(body.run_ids)}


@router.post("/ajax-api/ui/runs/restore", include_in_schema=False)
def restore_runs(request: Request, body: RunsIn) -> Any:
    store = store_of(request)
    for run_id in _check_bulk(body.run_ids):
        store.restore_run(run_id)
    return {"ok": True, "count": len(body.run_ids)}


@router.post("/ajax-api/ui/runs/set-tag", include_in_schema=False)
def set_tag(request: Request, body: TagIn) -> Any:
    key = body.key.strip()
    if not key:
        raise InvalidParameter("A tag needs a key.")
    store = store_of(request)
    for run_id in _check_bulk(body.run_ids):
        store.set_tag(run_id, RunTag(key, body.value))
    return {"ok": True, "count": len(body.run_ids)}


@router.post("/ajax-api/ui/runs/delete-tag", include_in_schema=False)
def delete_tag(request: Request, body: TagIn) -> Any:
    store = store_of(request)
    for run_id in _check_bulk(body.run_ids):
        store.delete_tag(run_id, body.key)
    return {"ok": True}


@router.post("/ajax-api/ui/runs/rename", include_in_schema=False)
def rename_run(request: Request, body: RenameIn) -> Any:
    name = body.name.strip()
    if not name:
        raise InvalidParameter("A run name cannot be empty.")
    store_of(request).update_run_info(body.run_id, run_name=name)
    return {"ok": True, "name": name}


@router.post("/ajax-api/ui/runs/note", include_in_schema=False)
def set_note(request: Request, body: NoteIn) -> Any:
    store_of(request).set_tag(body.run_id, RunTag(NOTE_TAG, body.text))
    return {"ok": True, "html": str(render_markdown(body.text))}
