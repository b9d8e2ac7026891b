"""``mltrail.autolog()``: every installed integration on, imports deferred, MLflow's names."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest_helpers import runs_in

import mltrail


def _run_script(tmp_path, code: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )


def test_autolog_is_a_function_and_extra_tags_reach_the_run():
    from sklearn.linear_model import LinearRegression

    mltrail.autolog(extra_tags={"team": "x"})
    LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.1])
    (run,) = runs_in("0")
    assert run.data.tags["team"] == "x"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.tags["estimator_name"] == "LinearRegression"
    assert {
        "training_score",
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
    } <= set(run.data.metrics)
    assert mltrail.active_run() is None


def test_exclude_flavors_and_disable_everywhere():
    from sklearn.linear_model import LinearRegression

    mltrail.autolog(exclude_flavors=["sklearn"])
    LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert runs_in("0") == []
    mltrail.autolog()
    mltrail.autolog(disable=True)
    LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert runs_in("0") == []


def test_a_flavor_configured_on_its_own_keeps_its_settings():
    from mltrail.autologging import config
    from mltrail.autologging import sklearn as sklearn_autolog

    sklearn_autolog.autolog(max_tuning_runs=2, log_models=False)
    mltrail.autolog(log_models=True)
    assert config.get_option("sklearn", "max_tuning_runs") == 2
    assert config.get_option("sklearn", "log_models") is False


def test_autolog_imports_nothing_heavy_and_hooks_libraries_imported_later(tmp_path):
    done = _run_script(
        tmp_path,
        """
        import sys
        import mltrail
        mltrail.autolog()
        libraries = ("sklearn", "torch", "lightning", "xgboost", "lightgbm")
        heavy = [m for m in libraries if m in sys.modules]
        assert heavy == [], heavy
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
        run = mltrail.last_active_run()
        print("tags", run.data.tags["mlflow.autologging"], run.data.tags["estimator_name"])
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "tags sklearn LinearRegression" in done.stdout


ULTRALYTICS_STYLE = """
import os
from pathlib import Path

import mltrail as mlflow

# What Ultralytics' MLflow callback does, in order (utils/callbacks/mlflow.py).
assert hasattr(mlflow, "__version__")
save_dir = Path("runs/detect/train")
(save_dir / "weights").mkdir(parents=True)
(save_dir / "weights" / "best.pt").write_bytes(b"weights")
(save_dir / "weights" / "last.pt").write_bytes(b"weights")
(save_dir / "results.csv").write_text("epoch,loss\\n0,1.0\\n")
(save_dir / "args.yaml").write_text("epochs: 2\\n")

uri = os.environ.get("MLFLOW_TRACKING_URI") or str(Path("runs") / "mlflow")
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("Ultralytics")
# Ultralytics strips parentheses from metric names (MLflow refuses them too).
def SANITIZE(x):
    return {k.replace("(", "").replace(")", ""): float(v) for k, v in x.items()}
mlflow.autolog()
active_run = mlflow.active_run() or mlflow.start_run(run_name="train")
mlflow.log_params({"epochs": 2, "imgsz": 64, "batch": 4, "model": "yolov8n.pt"})
for epoch in range(2):
    mlflow.log_metrics(
        metrics=SANITIZE({"lr/pg0": 0.01, "train/box_loss": 1.0 / (epoch + 1)}), step=epoch
    )
    mlflow.log_metrics(metrics=SANITIZE({"metrics/mAP50(B)": 0.1 * epoch}), step=epoch)
mlflow.log_artifact(str(save_dir / "weights"))
for f in save_dir.glob("*"):
    if f.suffix in {".png", ".jpg", ".csv", ".pt", ".yaml"}:
        mlflow.log_artifact(str(f))
mlflow.end_run()

client = mlflow.MlflowClient()
run = client.get_run(active_run.info.run_id)
artifacts = sorted(a.path for a in client.list_artifacts(run.info.run_id))
weights = sorted(a.path for a in client.list_artifacts(run.info.run_id, "weights"))
history = client.get_metric_history(run.info.run_id, "train/box_loss")
print("status", run.info.status, run.info.run_name)
print("params", run.data.params["imgsz"], run.data.params["batch"])
print("steps", [m.step for m in history], run.data.metrics["metrics/mAP50B"])
print("artifacts", artifacts, weights)
"""


def test_ultralytics_callback_sequence_under_import_mltrail_as_mlflow(tmp_path):
    done = _run_script(tmp_path, ULTRALYTICS_STYLE)
    assert done.returncode == 0, done.stderr
    assert "status FINISHED train" in done.stdout
    assert "params 64 4" in done.stdout
    assert "steps [0, 1] 0.1" in done.stdout
    assert "artifacts ['args.yaml', 'results.csv', 'weights'] " in done.stdout
    assert "['weights/best.pt', 'weights/last.pt']" in done.stdout


@pytest.mark.parametrize("flavor", ["sklearn", "pytorch", "xgboost", "lightgbm"])
def test_each_switch_has_mlflow_arguments_and_defaults(flavor):
    import importlib
    import inspect

    module = importlib.import_module(f"mltrail.autologging.{flavor}")
    params = inspect.signature(module.autolog).parameters
    for name, default in {
        "log_models": True,
        "disable": False,
        "exclusive": False,
        "silent": False,
        "disable_for_unsupported_versions": False,
    }.items():
        assert params[name].default is default, (flavor, name)
    if flavor == "sklearn":
        assert params["max_tuning_runs"].default == 5
        assert params["serialization_format"].default == "cloudpickle"
    if flavor == "pytorch":
        assert params["log_every_n_epoch"].default == 1
        assert params["log_every_n_step"].default is None
        assert params["checkpoint_monitor"].default == "val_loss"
