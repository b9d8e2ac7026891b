"""PyTorch Lightning autologging (both packages) and the explicit logger, on a small
MNIST-shaped module with synthetic tensors."""

from __future__ import annotations

import importlib
import json

import pytest
from conftest_helpers import artifact_paths, runs_in
from lightning_models import mnist_like_loaders, mnist_like_module, quiet_trainer

import mltrail
from mltrail.autologging import pytorch as pytorch_autolog
from mltrail.entities import LoggedModelStatus

pytest.importorskip("torch")

PACKAGES = [
    "lightning.pytorch",
    pytest.param(
        "pytorch_lightning",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("pytorch_lightning") is None,
            reason="pytorch_lightning is not installed",
        ),
    ),
]


@pytest.mark.parametrize("package", PACKAGES)
def test_fit_logs_params_epoch_metrics_early_stopping_and_checkpoint(package, client):
    pl = importlib.import_module(package)
    callbacks = importlib.import_module(f"{package}.callbacks")
    pytorch_autolog.autolog()
    train, val = mnist_like_loaders()
    # min_delta larger than any change: epoch 1 cannot improve, so patience 1 stops there.
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=100.0)
    checkpoint = callbacks.ModelCheckpoint(monitor="val_loss", dirpath="ckpts")
    trainer = quiet_trainer(pl, max_epochs=5, callbacks=[stopper, checkpoint])
    trainer.fit(mnist_like_module(pl, lr=0.02), train, val)

    run = client.get_run(mltrail.last_active_run().info.run_id)
    params = run.data.params
    assert params["epochs"] == "5"
    assert params["optimizer_name"] == "Adam"
    assert params["lr"] == "0.02"
    assert params["betas"] == "(0.9, 0.999)"
    assert params["batch_size"] == "16"
    assert params["monitor"] == "val_loss" and params["patience"] == "1"
    assert params["mode"] == "min" and params["stopped_epoch"] == "0"
    assert float(params["min_delta"]) == -100.0  # signed by Lightning for mode=min
    assert run.data.tags["mlflow.autologging"] == "pytorch"
    assert run.data.tags["Mode"] == "training"

    assert stopper.stopped_epoch == 1
    assert run.data.metrics["stopped_epoch"] == 1
    assert run.data.metrics["restored_epoch"] == 0
    assert run.data.metrics["wait_count"] == 1
    assert "best_score" in run.data.metrics
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in history] == [0, 1]
    assert history[-1].value == pytest.approx(float(trainer.callback_metrics["val_loss"]))
    assert {"train_loss", "train_loss_epoch", "train_loss_step", "val_acc"} <= set(run.data.metrics)

    assert {"model_summary.txt", "checkpoints", "restored_model_checkpoint"} <= artifact_paths(
        run.info.run_id
    )
    assert artifact_paths(run.info.run_id, "checkpoints") == {
        "checkpoints/latest_checkpoint.pth",
        "checkpoints/latest_checkpoint_metrics.json",
    }
    metrics_file = "checkpoints/latest_checkpoint_metrics.json"
    with open(client.download_artifacts(run.info.run_id, metrics_file)) as fh:
        saved = json.load(fh)
    best_epoch = min(history, key=lambda m: m.value).step  # kept: the lowest val_loss so far
    assert saved["epoch"] == best_epoch
    assert saved["val_loss"] == pytest.approx(min(m.value for m in history))
    assert run.data.tags["mlflow.latest_checkpoint_artifact"] == "checkpoints/latest_checkpoint.pth"

    # The final model, loadable as a working module, with a signature from the first batch.
    loaded = mltrail.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    batch = next(iter(train))[0][:3]
    import torch

    with torch.no_grad():
        trained = trainer.lightning_module.eval()
        assert torch.allclose(loaded(batch), trained(batch))
    signature = mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/model").metadata.signature
    assert signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 1, 28, 28]
    assert signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 10]
    assert len(run.outputs.model_outputs) == 1
    model = client.get_logged_model(run.outputs.model_outputs[0].model_id)
    assert (model.name, model.status, model.source_run_id) == (
        "model", LoggedModelStatus.READY, run.info.run_id)
    assert model.params["lr"] == "0.02"
    linked = sorted((m.key, m.step) for m in model.metrics if m.key == "val_loss")
    assert linked == [("val_loss", 0), ("val_loss", 1)]  # every epoch's point, as in MLflow
    loaded = mltrail.pytorch.load_model(model.model_uri)
    with torch.no_grad():
        assert torch.allclose(loaded(batch), trained(batch))


def _model_statuses(client) -> list[str]:
    return [m.status for m in client.search_logged_models(["0"])]


def test_model_is_pending_during_fit_and_failed_when_training_crashes(client):
    import lightning.pytorch as pl

    seen: list[list[str]] = []

    class Watch(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append(_model_statuses(client))

    pytorch_autolog.autolog(checkpoint=False, registered_model_name="mnist-autolog")
    train, val = mnist_like_loaders(batches=2)
    quiet_trainer(pl, max_epochs=1, callbacks=[Watch()]).fit(mnist_like_module(pl), train, val)
    assert seen == [[LoggedModelStatus.PENDING]]
    assert _model_statuses(client) == [LoggedModelStatus.READY]
    [version] = client.search_model_versions("name = 'mnist-autolog'")
    [model] = client.search_logged_models(["0"])
    assert version.model_id == model.model_id
    pytorch_autolog.autolog(checkpoint=False)

    class Crashes(type(mnist_like_module(pl))):  # type: ignore[misc]
        def training_step(self, batch, batch_idx):
            raise RuntimeError("out of memory, say")

    with pytest.raises(RuntimeError, match="out of memory"):
        quiet_trainer(pl, max_epochs=1).fit(Crashes(), train, val)
    crashed = client.get_run(mltrail.last_active_run().info.run_id)
    assert crashed.info.status == "FAILED"
    [model_output] = crashed.outputs.model_outputs
    assert client.get_logged_model(model_output.model_id).status == LoggedModelStatus.FAILED


def test_step_metrics_every_n_steps_and_test_metrics(client):
    import lightning.pytorch as pl

    pytorch_autolog.autolog(log_every_n_step=2, checkpoint=False, log_models=False)
    train, val = mnist_like_loaders(batches=4)
    trainer = quiet_trainer(pl, max_epochs=2)
    trainer.fit(mnist_like_module(pl), train, val)
    run_id = mltrail.last_active_run().info.run_id
    steps = [m.step for m in client.get_metric_history(run_id, "train_loss_step")]
    assert steps == [1, 3, 5, 7]  # as MLflow: ((global_step) + 1) % 2 == 0
    # Names logged per step are left out of the epoch logging.
    assert [m.step for m in client.get_metric_history(run_id, "train_loss_epoch")] == [0, 1]
    assert "checkpoints" not in artifact_paths(run_id)
    assert "model" not in artifact_paths(run_id)

    trainer.test(mnist_like_module(pl), dataloaders=val, verbose=False)
    run = client.get_run(run_id)
    assert "avg_test_acc" in run.data.metrics
    assert run.data.tags["Mode"] == "testing"


def test_disabled_and_exclusive_fit_logs_nothing():
    import lightning.pytorch as pl

    pytorch_autolog.autolog()
    pytorch_autolog.autolog(disable=True)
    train, val = mnist_like_loaders(batches=2)
    quiet_trainer(pl, max_epochs=1).fit(mnist_like_module(pl), train, val)
    assert runs_in("0") == []

    pytorch_autolog.autolog(exclusive=True, log_models=False)
    with mltrail.start_run() as run:
        quiet_trainer(pl, max_epochs=1).fit(mnist_like_module(pl), train, val)
    assert mltrail.get_run(run.info.run_id).data.params == {}


def test_explicit_logger_logs_metrics_hyperparams_and_checkpoints(client):
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint

    from mltrail.autologging.pytorch import MLFlowLogger

    logger = MLFlowLogger(experiment_name="mnist", run_name="explicit", log_model=True)
    module = mnist_like_module(pl)
    module.save_hyperparameters({"hidden": 32, "opt": {"name": "adam"}})
    train, val = mnist_like_loaders(batches=2)
    trainer = quiet_trainer(
        pl,
        max_epochs=2,
        logger=logger,
        log_every_n_steps=1,
        callbacks=[ModelCheckpoint(monitor="val_loss", dirpath="logger_ckpts")],
    )
    trainer.fit(module, train, val)

    experiment = client.get_experiment_by_name("mnist")
    (run,) = runs_in(experiment.experiment_id)
    assert run.info.run_id == logger.run_id
    assert run.info.run_name == "explicit"
    assert run.info.status == "FINISHED"
    assert run.data.params["hidden"] == "32" and run.data.params["opt/name"] == "adam"
    assert {"train_loss_step", "val_loss", "epoch"} <= set(run.data.metrics)
    uploaded = artifact_paths(run.info.run_id, "model/checkpoints")
    assert len(uploaded) == 1
    assert runs_in("0") == []  # autologging was off: nothing else was made


def test_plain_pytorch_tracker_logs_optimizer_params_and_losses(client):
    import torch

    from mltrail.autologging.pytorch import TrainingTracker

    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    with TrainingTracker(model, optimizer, log_every_n_step=2) as tracker:
        for _ in range(6):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            tracker.log_loss(loss)
    run = client.get_run(tracker.run_id)
    assert run.data.params["optimizer_name"] == "SGD"
    assert run.data.params["lr"] == "0.1" and run.data.params["momentum"] == "0.9"
    assert [m.step for m in client.get_metric_history(tracker.run_id, "loss")] == [2, 4, 6]
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "pytorch"
    loaded = mltrail.pytorch.load_model(f"runs:/{tracker.run_id}/model")
    assert torch.allclose(loaded(x), model(x))
