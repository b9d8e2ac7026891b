"""MLflow REST 2.0 wire format: tracking entities to and from JSON (snake_case field names,
NaN and infinities as the strings "NaN", "Infinity", "-Infinity")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from mltrail.protocol.doubles import decode_double, encode_double


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def query_params(params: dict[str, Any]) -> dict[str, Any]:
    """GET query: lists as repeated keys (requests does that), bools as true/false."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


KeyValue = Param | RunTag | ExperimentTag | InputTag | LoggedModelTag | LoggedModelParameter


def pairs(items: Sequence[KeyValue]) -> list[dict[str, str]]:
    return [{"key": i.key, "value": i.value} for i in items]


def _tags_dict(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {i["key"]: i.get("value", "") for i in items or []}


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def metric_to_json(m: Metric) -> dict[str, Any]:
    out = {"key": m.key, "value": encode_double(m.value), "timestamp": m.timestamp, "step": m.step}
    for name in ("dataset_name", "dataset_digest", "model_id"):
        if getattr(m, name) is not None:
            out[name] = getattr(m, name)
    return out


def metric_from_json(d: dict[str, Any]) -> Metric:
    # A search page holds thousands of these: plain numbers skip the conversions, and the
    # optional fields are looked up only when the object has more than the four usual ones.
    get = d.get
    value, timestamp, step = get("value", 0.0), get("timestamp", 0), get("step", 0)
    metric = Metric(
        d["key"],
        value if type(value) is float else decode_double(value),
        timestamp if type(timestamp) is int else int(timestamp),
        step if type(step) is int else int(step),
    )
    if len(d) > 4:
        metric.run_id = get("run_id")
        metric.dataset_name = get("dataset_name")
        metric.dataset_digest = get("dataset_digest")
        metric.model_id = get("model_id")
    return metric


def experiment_from_json(d: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(d["experiment_id"]),
        name=d.get("name", ""),
        artifact_location=d.get("artifact_location", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        tags=_tags_dict(d.get("tags")),
        creation_time=_int_or_none(d.get("creation_time")),
        last_update_time=_int_or_none(d.get("last_update_time")),
    )


def run_info_from_json(d: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=d.get("run_id") or d["run_uuid"],
        experiment_id=str(d.get("experiment_id", "")),
        run_name=d.get("run_name", ""),
        user_id=d.get("user_id", ""),
        status=d.get("status", "RUNNING"),
        start_time=_int_or_none(d.get("start_time")),
        end_time=_int_or_none(d.get("end_time")),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        artifact_uri=d.get("artifact_uri", ""),
    )


def run_from_json(d: dict[str, Any]) -> Run:
    data = d.get("data") or {}
    points = [metric_from_json(m) for m in data.get("metrics", ())]
    run_data = RunData(
        {m.key: m.value for m in points},
        _tags_dict(data.get("params")),
        _tags_dict(data.get("tags")),
        points,
    )
    inputs = d.get("inputs")
    run_inputs = (
        RunInputs(
            _dataset_inputs(inputs.get("dataset_inputs", [])),
            [LoggedModelInput(m["model_id"]) for m in inputs.get("model_inputs", [])],
        )
        if inputs
        else RunInputs()
    )
    outputs = d.get("outputs")
    run_outputs = (
        RunOutputs(
            [
                LoggedModelOutput(m["model_id"], int(m.get("step", 0)))
                for m in outputs.get("model_outputs", [])
            ]
        )
        if outputs
        else RunOutputs()
    )
    return Run(run_info_from_json(d["info"]), run_data, run_inputs, run_outputs)


def logged_model_from_json(d: dict[str, Any]) -> LoggedModel:
    info, data = d.get("info") or {}, d.get("data") or {}
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri", ""),
        creation_timestamp=int(info.get("creation_timestamp_ms", 0)),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms", 0)),
        status=LoggedModelStatus.normalize(info.get("status", LoggedModelStatus.UNSPECIFIED)),
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status_message=info.get("status_message") or None,
        tags=_tags_dict(info.get("tags")),
        params=_tags_dict(data.get("params")),
        metrics=[metric_from_json(m) for m in data.get("metrics", [])],
    )


def _dataset_inputs(items: list[dict[str, Any]]) -> list[DatasetInput]:
    found = []
    for item in items:
        ds = item.get("dataset", {})
        dataset = Dataset(
            ds.get("name", ""),
            ds.get("digest", ""),
            ds.get("source_type", ""),
            ds.get("source", ""),
            ds.get("schema"),
            ds.get("profile"),
        )
        tags = tuple(InputTag(t["key"], t.get("value", "")) for t in item.get("tags", []))
        found.append(DatasetInput(dataset, tags))
    return found


def dataset_input_to_json(d: DatasetInput) -> dict[str, Any]:
    ds = d.dataset
    dataset = drop_none(
        {
            "name": ds.name,
            "digest": ds.digest,
            "source_type": ds.source_type,
            "source": ds.source,
            "schema": ds.schema,
            "profile": ds.profile,
        }
    )
    return {"tags": pairs(d.tags), "dataset": dataset}
