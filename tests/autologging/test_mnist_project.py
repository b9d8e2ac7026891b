"""The seed's MNIST autolog example, on synthetic tensors, run end to end by ``mltrail run``
and shown by the UI's run page."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mltrail

# Shared with the other test that runs the seed's MNIST project.
PROJECT = Path(__file__).parents[1] / "support" / "mnist_project"


@pytest.mark.slow
def test_seed_mnist_example_under_mltrail_run(tmp_path):
    pytest.importorskip("pytorch_lightning")
    project = tmp_path / "mnist"
    shutil.copytree(PROJECT, project)
    store = tmp_path / "store.db"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "mltrail"),
            "run",
            str(project),
            "--env-manager",
            "local",
            "--experiment-name",
            "mnist",
            "--tracking-uri",
            f"sqlite:///{store}",
            "-P",
            "max_epochs=2",
            "-P",
            "num_workers=0",
            "-P",
            "batch_size=100",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    mltrail.set_tracking_uri(f"sqlite:///{store}")
    client = mltrail.TrailClient()
    experiment = client.get_experiment_by_name("mnist")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["max_epochs"] == "2"  # the project's parameter
    assert params["epochs"] == "2" and params["optimizer_name"] == "Adam"  # autologged
    assert params["lr"] == "0.001" and params["batch_size"] == "100"
    assert params["monitor"] == "val_loss" and params["patience"] == "3"
    assert {"train_loss", "val_loss", "avg_test_acc"} <= set(run.data.metrics)
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [0, 1]
    model = mltrail.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    import torch

    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)

    # The UI's run page, served by a real server, shows it: params, metrics and the model.
    import httpx
    from live_servers import ThreadServer

    from mltrail.server.settings import ServerSettings

    artifacts = str(tmp_path / "mltrail-artifacts")
    server = ThreadServer(
        ServerSettings(
            backend_store_uri=f"sqlite:///{store}",
            default_artifact_root=artifacts,
            artifacts_destination=artifacts,
        )
    ).start()
    try:
        page = httpx.get(f"{server.url}/runs/{run.info.run_id}", timeout=30)
        listing = httpx.get(
            f"{server.url}/api/2.0/mlflow/artifacts/list",
            params={"run_id": run.info.run_id},
            timeout=30,
        ).json()
    finally:
        server.stop()
    assert page.status_code == 200
    for text in ("optimizer_name", "Adam", "val_loss", "avg_test_acc", "stopped_epoch"):
        assert text in page.text, text
    listed = {f["path"] for f in listing["files"]}
    assert {"model_summary.txt", "checkpoints"} <= listed
