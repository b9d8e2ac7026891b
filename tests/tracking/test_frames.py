"""``search_runs``'s DataFrame: MLflow's columns and dtypes, built column-wise."""

from __future__ import annotations

import math

import pandas as pd

import mltrail
from mltrail.tracking.frames import runs_to_dataframe


def test_frame_columns_values_and_missing_cells() -> None:
    mltrail.set_experiment("frames")
    with mltrail.start_run(run_name="a") as a:
        mltrail.log_params({"lr": "0.1", "solver": "adam"})
        mltrail.log_metrics({"acc": 0.5, "loss": float("nan")})
        mltrail.set_tag("team", "x")
    with mltrail.start_run(run_name="b") as b:
        mltrail.log_param("lr", "0.2")
        mltrail.log_metric("acc", 0.75)
    frame = mltrail.search_runs(order_by=["metrics.acc DESC"])
    assert list(frame.columns[:6]) == [
        "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
    ]  # fmt: skip
    assert list(frame["run_id"]) == [b.info.run_id, a.info.run_id]
    assert list(frame["metrics.acc"]) == [0.75, 0.5]
    assert frame["metrics.acc"].dtype == "float64"
    assert math.isnan(frame["metrics.loss"][0]) and math.isnan(frame["metrics.loss"][1])
    assert list(frame["params.lr"]) == ["0.2", "0.1"]
    assert frame["params.solver"][0] is None  # b has no solver
    assert frame["tags.team"][0] is None and frame["tags.team"][1] == "x"
    assert list(frame["tags.mlflow.runName"]) == ["b", "a"]
    start = frame["start_time"][1]
    assert str(start.tz) == "UTC"
    assert int(start.timestamp() * 1000) == mltrail.get_run(a.info.run_id).info.start_time
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")]
    assert metric_cols == sorted(metric_cols)


def test_empty_search_gives_the_info_columns() -> None:
    frame = runs_to_dataframe([])
    assert len(frame) == 0
    assert list(frame.columns) == [
        "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
    ]  # fmt: skip


def test_a_run_still_running_has_no_end_time() -> None:
    with mltrail.start_run():
        frame = mltrail.search_runs()
    assert pd.isna(frame["end_time"][0])
    assert frame["status"][0] == "RUNNING"
