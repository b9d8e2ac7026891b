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


def test_frame_equals_the_one_pandas_builds_from_rows() -> None:
    """The frame is handed to pandas as typed blocks; it must equal what pandas' public
    constructor makes of the same cells."""
    mltrail.set_experiment("frames-reference")
    with mltrail.start_run():
        mltrail.log_params({"a": "1", "b": "x"})
        mltrail.log_metrics({"m": 1.5, "n": -2.0})
    with mltrail.start_run():
        mltrail.log_param("a", "2")
        mltrail.log_metric("n", float("inf"))
        mltrail.set_tag("t", "")
    with mltrail.start_run():
        runs = mltrail.search_runs(output_format="list")
        frame = runs_to_dataframe(runs)
    columns = list(frame.columns)
    rows = []
    for run in runs:
        row: dict = {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "status": run.info.status,
            "artifact_uri": run.info.artifact_uri,
            "start_time": pd.Timestamp(run.info.start_time, unit="ms", tz="UTC"),
            "end_time": (
                pd.NaT
                if run.info.end_time is None
                else pd.Timestamp(run.info.end_time, unit="ms", tz="UTC")
            ),
        }
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
        rows.append(row)
    expected = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column.startswith(("params.", "tags.")) or column in ("run_id", "experiment_id"):
            expected[column] = expected[column].astype(object).where(expected[column].notna(), None)
        elif column in ("status", "artifact_uri"):
            expected[column] = expected[column].astype(object)
        elif column.endswith("_time"):
            expected[column] = expected[column].astype("datetime64[ms, UTC]")
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["metrics.m"].isna().tolist() == [True, True, False]
