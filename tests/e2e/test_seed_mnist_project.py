"""Seed 000 ("MLflow PyTorch example using MLproject, pip"): the MNIST autolog project (its
MLproject, python_env.yaml and requirements.txt as the post writes them; the script on
synthetic MNIST-shaped tensors) run by ``mltrail run .`` in a fresh folder, then looked at as
the reader does in ``mltrail ui``: params, per-epoch metrics, the test metric, and the model
that autolog logged, loaded back and scoring 28x28 images."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs torch==2.13.0 (the dev extra installs it)")
pytest.importorskip("lightning", reason="needs lightning (the dev extra installs it)")

from e2e_helpers import VENV_BIN, clean_env  # noqa: E402

pytestmark = pytest.mark.timeout(240)

# Shared with the other test that runs the seed's MNIST project.
PROJECT = Path(__file__).parents[1] / "support" / "mnist_project"


@pytest.fixture(scope="module")
def project_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("seed000") / "pytorch_example"
    shutil.copytree(PROJECT, folder)
    proc = subprocess.run(
        [
            str(VENV_BIN / "mltrail"),
            "run",
            ".",
            "--env-manager",
            "local",
            "-P",
            "max_epochs=2",
            "-P",
            "batch_size=32",
            "-P",
            "num_workers=0",  # the script's loaders honour it; worker processes only slow this
            "--experiment-name",
            "mnist",
        ],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder, proc.stdout + proc.stderr


def test_project_run_logs_autolog_params_and_metrics(project_run: tuple[Path, str]) -> None:
    from mltrail.tracking.client import TrailClient

    folder, output = project_run
    assert "succeeded" in output
    client = TrailClient(f"sqlite:///{folder / 'mltrail.db'}")
    experiment = client.get_experiment_by_name("mnist")
    (run,) = client.search_runs([experiment.experiment_id])
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    # The entry point's parameters (defaults and -P overrides) and autolog's own.
    assert params["max_epochs"] == "2" and params["batch_size"] == "32"
    assert params["learning_rate"] == "0.001" and params["monitor"] == "val_loss"
    assert params["optimizer_name"] == "Adam" and params["lr"] == "0.001"
    assert params["epochs"] == "2"
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.project.entryPoint"] == "main"
    assert {"train_loss", "val_loss", "avg_test_acc"} <= set(metrics)
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2
    assert 0.0 <= metrics["avg_test_acc"] <= 1.0


def test_autologged_model_loads_back_and_scores(
    project_run: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import mltrail
    from mltrail.tracking.client import TrailClient

    folder, _ = project_run
    uri = f"sqlite:///{folder / 'mltrail.db'}"
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = TrailClient(uri)
    experiment = client.get_experiment_by_name("mnist")
    (run,) = client.search_runs([experiment.experiment_id])
    models = client.search_logged_models([experiment.experiment_id])
    assert len(models) == 1 and models[0].source_run_id == run.info.run_id
    model = mltrail.pyfunc.load_model(f"models:/{models[0].model_id}")
    images = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    scores = np.asarray(model.predict(images))
    assert scores.shape == (3, 10)
    # log_softmax output: each row's probabilities sum to one.
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0, atol=1e-4)
