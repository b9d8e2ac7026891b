"""Runs and logged models as pandas DataFrames, with MLflow's column names."""

from __future__ import annotations

from typing import Any

from mltrail.entities import LoggedModel, Run


def runs_to_dataframe(runs: list[Run]) -> Any:
    import pandas as pd

    info_cols = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    rows: list[dict[str, Any]] = []
    metric_keys: set[str] = set()
    param_keys: set[str] = set()
    tag_keys: set[str] = set()
    for run in runs:
        row: dict[str, Any] = {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "status": run.info.status,
            "artifact_uri": run.info.artifact_uri,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
        }
        for key, value in run.data.metrics.items():
            row["metrics." + key] = value
            metric_keys.add(key)
        for key, value in run.data.params.items():
            row["params." + key] = value
            param_keys.add(key)
        for key, value in run.data.tags.items():
            row["tags." + key] = value
            tag_keys.add(key)
        rows.append(row)
    columns = (
        info_cols
        + ["metrics." + k for k in sorted(metric_keys)]
        + ["params." + k for k in sorted(param_keys)]
        + ["tags." + k for k in sorted(tag_keys)]
    )
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("start_time", "end_time"):
        frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
    return frame


def logged_models_to_dataframe(models: list[LoggedModel]) -> Any:
    import pandas as pd

    rows = [
        {
            "model_id": m.model_id,
            "name": m.name,
            "experiment_id": m.experiment_id,
            "status": m.status,
            "model_type": m.model_type,
            "source_run_id": m.source_run_id,
            "artifact_location": m.artifact_location,
            "creation_timestamp": m.creation_timestamp,
            "last_updated_timestamp": m.last_updated_timestamp,
            "tags": dict(m.tags),
            "params": dict(m.params),
            "metrics": list(m.metrics),
        }
        for m in models
    ]
    columns = [
        "model_id", "name", "experiment_id", "status", "model_type", "source_run_id",
        "artifact_location", "creation_timestamp", "last_updated_timestamp", "tags", "params",
        "metrics",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
