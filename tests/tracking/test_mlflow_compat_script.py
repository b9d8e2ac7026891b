"""Code written for MLflow runs unchanged with ``import mltrail as mlflow``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

MLFLOW_STYLE_SCRIPT = textwrap.dedent(
    """
    import mltrail as mlflow
    from mltrail import MlflowClient
    from mltrail.entities import Metric, Param, RunTag
    from mltrail.exceptions import MlflowException
    from mltrail.tracking import MlflowClient as TrackingClient

    mlflow.set_experiment("penguins")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.1})
        for epoch in range(10):
            mlflow.log_metrics({"rmse": 1.0 / (epoch + 1), "r2": epoch / 10}, step=epoch)
        mlflow.set_tags({"stage": "dev"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("score", 0.7)
        mlflow.log_text("hello", "notes/readme.txt")
    client = MlflowClient()
    assert TrackingClient is MlflowClient
    run = client.get_run(parent.info.run_id)
    assert run.data.params["alpha"] == "0.5", run.data.params
    assert run.data.metrics["rmse"] == 0.1
    exp = client.get_experiment_by_name("penguins")
    parent_filter = "tags.`mlflow.parentRunId` = '%s'" % parent.info.run_id
    runs = client.search_runs([exp.experiment_id], parent_filter)
    assert [r.info.run_id for r in runs] == [child.info.run_id]
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("extra", 1.0, 0, 0)],
        params=[Param("x", "1")],
        tags=[RunTag("k", "v")],
    )
    try:
        mlflow.start_run(experiment_id="987654")
    except MlflowException as exc:
        print("clear error:", exc)
    print("ok", len(client.get_metric_history(run.info.run_id, "rmse")))
    """
)


def test_mlflow_script_runs_with_mltrail(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(MLFLOW_STYLE_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "ok 10" in done.stdout
    assert "clear error:" in done.stdout and "987654" in done.stdout
    assert (tmp_path / "mltrail.db").exists()


def test_fluent_names_match_mlflow():
    import mlflow

    import mltrail

    wanted = [
        "set_tracking_uri",
        "get_tracking_uri",
        "create_experiment",
        "set_experiment",
        "get_experiment",
        "get_experiment_by_name",
        "search_experiments",
        "delete_experiment",
        "start_run",
        "end_run",
        "active_run",
        "last_active_run",
        "log_param",
        "log_params",
        "log_metric",
        "log_metrics",
        "set_tag",
        "set_tags",
        "delete_tag",
        "log_artifact",
        "log_artifacts",
        "log_text",
        "log_dict",
        "log_figure",
        "log_image",
        "get_artifact_uri",
        "search_runs",
        "delete_run",
        "get_run",
        "get_parent_run",
        "set_experiment_tag",
        "set_experiment_tags",
        "MlflowClient",
        "flush_async_logging",
    ]
    for name in wanted:
        assert hasattr(mlflow, name), f"mlflow itself lacks {name}"
        assert hasattr(mltrail, name), f"mltrail lacks mlflow.{name}"


def test_import_is_light():
    code = (
        "import sys, mltrail; heavy = [m for m in ('sqlalchemy', 'pandas', 'numpy', 'fastapi',"
        " 'boto3', 'torch', 'sklearn') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
