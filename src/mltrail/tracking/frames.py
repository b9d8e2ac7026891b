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

    Built column by column into three blocks (text, times, metric values) handed to pandas as
    they are: a frame from a list of row dicts spends most of its time guessing each column's
    type, and even a frame from typed blocks spends more time checking and consolidating them
    than the search takes on a small experiment.
    """
    import numpy as np
    import pandas as pd

    n = len(runs)
    infos = [run.info for run in runs]
    datas = [run.data for run in runs]
    metrics_of = [data.metrics for data in datas]
    params_of = [data.params for data in datas]
    tags_of = [data.tags for data in datas]
    metric_keys = sorted(set().union(*metrics_of))
    param_keys = sorted(set().union(*params_of))
    tag_keys = sorted(set().union(*tags_of))

    text_columns: list[list[Any]] = [
        [info.run_id for info in infos],
        [info.experiment_id for info in infos],
        [info.status for info in infos],
        [info.artifact_uri for info in infos],
    ]
    text_columns += [[found.get(key) for found in params_of] for key in param_keys]
    text_columns += [[found.get(key) for found in tags_of] for key in tag_keys]
    text = np.empty((len(text_columns), n), dtype=object)
    for j, column in enumerate(text_columns):
        text[j, :] = column
    nan = float("nan")
    values = np.array(
        [[found.get(key, nan) for found in metrics_of] for key in metric_keys], dtype=np.float64
    ).reshape(len(metric_keys), n)
    times = [
        _utc_times([info.start_time for info in infos]),
        _utc_times([info.end_time for info in infos]),
    ]

    n_info, n_metrics = len(INFO_COLUMNS), len(metric_keys)
    names = [
        *INFO_COLUMNS,
        *TIME_COLUMNS,
        *("metrics." + k for k in metric_keys),
        *("params." + k for k in param_keys),
        *("tags." + k for k in tag_keys),
    ]
    columns = pd.Index(names)  # str dtype on pandas 3, as MLflow's frame has
    text_at = np.r_[0:n_info, n_info + 2 + n_metrics : len(names)]
    metric_at = np.arange(n_info + 2, n_info + 2 + n_metrics)
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pandas < 3: public constructors, then the column order
        parts = [
            pd.DataFrame(text.T, columns=columns[text_at], dtype=object),
            pd.DataFrame(dict(zip(TIME_COLUMNS, times, strict=True))),
            pd.DataFrame(values.T, columns=columns[metric_at], dtype=np.float64),
        ]
        return pd.concat(parts, axis=1)[columns]
    blocks = [
        (text, text_at),
        (times[0], np.array([n_info])),
        (times[1], np.array([n_info + 1])),
        (values, metric_at),
    ]
    return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(n), columns=columns)


def _utc_times(millis: list[int | None]) -> Any:
    """Milliseconds since the epoch as a ``datetime64[ms, UTC]`` array (NaT for None)."""
    import numpy as np
    import pandas as pd

    if None in millis:
        stamps = np.array(
            [np.datetime64("NaT") if m is None else m for m in millis], dtype="datetime64[ms]"
        )
    else:
        stamps = np.array(millis, dtype=np.int64).astype("datetime64[ms]")
    return pd.arrays.DatetimeArray._from_sequence(stamps, dtype=pd.DatetimeTZDtype("ms", "UTC"))


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
