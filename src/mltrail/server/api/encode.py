"""Writing answers in MLflow's JSON shape: snake_case names, int64 as numbers, enums by name,
unset and empty fields left out, NaN and infinities as strings; encoded with orjson."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import Response

from mltrail.entities import DatasetInput, Experiment, Metric, Run, RunInfo
from mltrail.protocol.doubles import encode_double


def reply(payload: dict[str, Any] | None = None) -> Response:
    return Response(orjson.dumps(payload or {}), media_type="application/json")


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
        "value": encode_double(m.value),
        "timestamp": m.timestamp,
        "step": m.step or 0,
    }
    if run_id is not None:
        out["run_id"] = run_id
    return out


def metrics_json(points: Iterable[Metric]) -> list[dict[str, Any]]:
    """``metric_json`` of each point, as one comprehension: a history page or a search page
    has thousands of points, and two calls per point cost more than building its dict."""
    return [
        {
            "key": m.key,
            # v - v is 0.0 for every finite value, NaN for NaN and the infinities
            "value": m.value if m.value - m.value == 0 else encode_double(m.value),
            "timestamp": m.timestamp,
            "step": m.step or 0,
        }
        for m in points
    ]


def run_json(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    points = run.data.metric_objs or [Metric(k, v, 0, 0) for k, v in run.data.metrics.items()]
    if points:
        data["metrics"] = metrics_json(points)
    if run.data.params:
        data["params"] = [{"key": k, "value": v} for k, v in run.data.params.items()]
    if run.data.tags:
        data["tags"] = [{"key": k, "value": v} for k, v in run.data.tags.items()]
    inputs: dict[str, Any] = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [_dataset_input_json(item) for item in run.inputs.dataset_inputs]
    if run.inputs.model_inputs:
        inputs["model_inputs"] = [{"model_id": m.model_id} for m in run.inputs.model_inputs]
    outputs: dict[str, Any] = {}
    if run.outputs.model_outputs:
        outputs["model_outputs"] = [
            {"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs
        ]
    return {"info": run_info_json(run.info), "data": data, "inputs": inputs, "outputs": outputs}


def _dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    dataset = item.dataset
    fields = (
        ("name", dataset.name),
        ("digest", dataset.digest),
        ("source_type", dataset.source_type),
        ("source", dataset.source),
        ("schema", dataset.schema),
        ("profile", dataset.profile),
    )
    return {
        "tags": [{"key": t.key, "value": t.value} for t in item.tags],
        "dataset": {k: v for k, v in fields if v is not None},
    }


def paged(name: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A search page: an empty page is ``{}``, the token appears only when there is more."""
    out: dict[str, Any] = {}
    if items:
        out[name] = items
    if token:
        out["next_page_token"] = token
    return out
