"""Runs and logged models as pandas DataFrames, with MLflow's column names."""

from __future__ import annotations

from typing import Any

from mltrail.entities import LoggedModel, Run

INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri")
TIME_COLUMNS = ("start_time", "end_time")


def runs_to_dataframe(runs: list[Run]) -> Any:
    """MLflow's frame of runs: ``run_id, experiment_id, status, artifact_uri, start_time,
    end_time``, then ``metrics.*`` (float64, NaN where a run lacks the metric), ``params.*``
    and ``tags.*`` (object, None where missing), keys sorted.

    Built column block by column block from NumPy arrays: a frame from a list of row dicts
    spends most of its time guessing each column's type, longer than the search itself.
    """
    import numpy as np
    import pandas as pd

    n = len(runs)
    metric_keys = sorted({k for run in runs for k in run.data.metrics})
    param_keys = sorted({k for run in runs for k in run.data.params})
    tag_keys = sorted({k for run in runs for k in run.data.tags})
    metric_at = {k: j for j, k in enumerate(metric_keys)}
    text_at = {"p" + k: j for j, k in enumerate(param_keys, len(INFO_COLUMNS))}
    text_at.update(
        {"t" + k: j for j, k in enumerate(tag_keys, len(INFO_COLUMNS) + len(param_keys))}
    )

    text = np.full((n, len(INFO_COLUMNS) + len(param_keys) + len(tag_keys)), None, dtype=object)
    values = np.full((n, len(metric_keys)), np.nan)
    times = np.full((n, 2), np.nan)
    for i, run in enumerate(runs):
        info, data, row = run.info, run.data, text[i]
        row[0], row[1], row[2], row[3] = (
            info.run_id,
            info.experiment_id,
            info.status,
            info.artifact_uri,
        )
        if info.start_time is not None:
            times[i, 0] = info.start_time
        if info.end_time is not None:
            times[i, 1] = info.end_time
        for key, value in data.metrics.items():
            values[i, metric_at[key]] = value
        for key, text_value in data.params.items():
            row[text_at["p" + key]] = text_value
        for key, text_value in data.tags.items():
            row[text_at["t" + key]] = text_value

    def labels(names: list[str]) -> Any:
        # Object labels: a str-dtype index (pandas 3's default) costs an Arrow array a block.
        return pd.Index(names, dtype=object)

    missing = np.isnan(times)
    stamps = np.where(missing, 0, times).astype("int64").astype("datetime64[ms]")
    stamps[missing] = np.datetime64("NaT")
    n_info = len(INFO_COLUMNS)
    blocks = [
        pd.DataFrame(
            text[:, :n_info], columns=labels(list(INFO_COLUMNS)), dtype=object, copy=False
        ),
        pd.DataFrame(
            {
                col: pd.DatetimeIndex(stamps[:, j]).tz_localize("UTC")
                for j, col in enumerate(TIME_COLUMNS)
            }
        ),
        pd.DataFrame(values, columns=labels(["metrics." + k for k in metric_keys]), copy=False),
        pd.DataFrame(
            text[:, n_info:],
            columns=labels(["params." + k for k in param_keys] + ["tags." + k for k in tag_keys]),
            dtype=object,
            copy=False,
        ),
    ]
    return pd.concat(blocks, axis=1)


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
