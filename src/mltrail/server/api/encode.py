"""Writing answers in MLflow's JSON shape: snake_case names, int64 as numbers, enums by name,
unset and empty fields left out, NaN and infinities as strings; encoded with orjson."""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import Response

from mltrail.entities import Experiment, Metric, Run, RunInfo


def reply(payload: dict[str, Any] | None = None) -> Response:
    return Response(orjson.dumps(payload or {}), media_type="application/json")


def double(value: float) -> float | str:
    """NaN and infinities travel as strings; orjson would write them as null."""
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment_json(exp: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
    }
    if exp.last_update_time is not None:
        out["last_update_time"] = exp.last_update_time
    if exp.creation_time is not None:
        out["creation_time"] = exp.creation_time
    if exp.tags:
        out["tags"] = key_values(exp.tags)
    return out


def run_info_json(info: RunInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.start_time is not None:
        out["start_time"] = info.start_time
    if info.end_time is not None:
        out["end_time"] = info.end_time
    return out


def metric_json(m: Metric, run_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": m.key,
        "value": double(m.value),
        "timestamp": m.timestamp,
        "step": m.step or 0,
    }
    if run_id is not None:
        out["run_id"] = run_id
    return out


def run_json(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    points = run.data.metric_objs or [Metric(k, v, 0, 0) for k, v in run.data.metrics.items()]
    if points:
        data["metrics"] = [metric_json(m) for m in points]
    if run.data.params:
        data["params"] = key_values(run.data.params)
    if run.data.tags:
        data["tags"] = key_values(run.data.tags)
    inputs: dict[str, Any] = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [
            {
                "tags": [{"key": t.key, "value": t.value} for t in item.tags],
                "dataset": {
                    k: v
                    for k, v in (
                        ("name", item.dataset.name),
                        ("digest", item.dataset.digest),
                        ("source_type", item.dataset.source_type),
                        ("source", item.dataset.source),
                        ("schema", item.dataset.schema),
                        ("profile", item.dataset.profile),
                    )
                    if v is not None
                },
            }
            for item in run.inputs.dataset_inputs
        ]
    return {"info": run_info_json(run.info), "data": data, "inputs": inputs, "outputs": {}}


def paged(name: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A search page: an empty page is ``{}``, the token appears only when there is more."""
    out: dict[str, Any] = {}
    if items:
        out[name] = items
    if token:
        out["next_page_token"] = token
    return out
