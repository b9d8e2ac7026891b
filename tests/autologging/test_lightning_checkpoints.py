"""Autolog checkpoints: what is in the run's artifacts when, and that the files are the ones
``Trainer.save_checkpoint`` writes (the in-memory path, and a custom CheckpointIO's path)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from conftest_helpers import artifact_paths
from lightning_models import mnist_like_loaders, mnist_like_module, quiet_trainer

import mltrail
from mltrail.autologging import pytorch as pytorch_autolog
from mltrail.store.artifact.local import local_path_from_uri

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")


def _load(client, run_id: str, path: str) -> dict:
    return torch.load(client.download_artifacts(run_id, path), weights_only=False)


def _same_tensors(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_tensors(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same_tensors(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class Reference(pl.Callback):
    """Writes ``Trainer.save_checkpoint``'s own file at each epoch end, just before autolog's
    callback (appended last) writes its checkpoint of the same state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            trainer.save_checkpoint(self.folder / f"epoch_{trainer.current_epoch}.ckpt")


def test_every_epoch_checkpoint_is_complete_and_kept_when_the_fit_fails_later(client, tmp_path):
    pytorch_autolog.autolog(checkpoint_save_best_only=False, log_models=False)

    class CrashesInEpoch2(type(mnist_like_module(pl))):  # type: ignore[misc]
        def training_step(self, batch, batch_idx):
            if self.current_epoch == 2:
                raise RuntimeError("disk full, say")
            return super().training_step(batch, batch_idx)

    train, val = mnist_like_loaders(batches=2)
    reference = Reference(tmp_path)
    with pytest.raises(RuntimeError, match="disk full"):
        quiet_trainer(pl, max_epochs=4, callbacks=[reference]).fit(CrashesInEpoch2(), train, val)

    run = client.get_run(mltrail.last_active_run().info.run_id)
    run_id = run.info.run_id
    assert run.info.status == "FAILED"
    assert artifact_paths(run_id, "checkpoints") == {"checkpoints/epoch_0", "checkpoints/epoch_1"}
    for epoch in (0, 1):
        folder = f"checkpoints/epoch_{epoch}"
        assert artifact_paths(run_id, folder) == {
            f"{folder}/checkpoint.pth", f"{folder}/checkpoint_metrics.json"
        }
        logged = _load(client, run_id, f"{folder}/checkpoint.pth")
        expected = torch.load(tmp_path / f"epoch_{epoch}.ckpt", weights_only=False)
        assert logged.keys() == expected.keys()
        assert logged["epoch"] == epoch
        for key in ("state_dict", "optimizer_states", "loops", "global_step"):
            assert _same_tensors(logged[key], expected[key]), key
        # ... and Lightning restores a module from it.
        path = client.download_artifacts(run_id, f"{folder}/checkpoint.pth")
        restored = type(mnist_like_module(pl)).load_from_checkpoint(path)
        assert _same_tensors(restored.state_dict(), expected["state_dict"])
    assert run.data.tags["mlflow.latest_checkpoint_artifact"] == (
        "checkpoints/epoch_1/checkpoint.pth"
    )
    # Written in place under temporary names and renamed: none is left behind.
    root = local_path_from_uri(run.info.artifact_uri)
    leftovers = [n for _, _, names in os.walk(root) for n in names if n.startswith(".upload-")]
    assert leftovers == []


def test_best_only_checkpoint_is_replaced_and_weights_only_loads(client):
    pytorch_autolog.autolog(checkpoint_monitor=None, checkpoint_save_weights_only=True,
                            log_models=False)
    train, val = mnist_like_loaders(batches=2)
    trainer = quiet_trainer(pl, max_epochs=3)
    trainer.fit(mnist_like_module(pl), train, val)
    run_id = mltrail.last_active_run().info.run_id
    assert artifact_paths(run_id, "checkpoints") == {
        "checkpoints/latest_checkpoint.weights.pth",
        "checkpoints/latest_checkpoint_metrics.json",
    }
    saved = torch.load(client.download_artifacts(
        run_id, "checkpoints/latest_checkpoint.weights.pth"), weights_only=True)
    assert saved["epoch"] == 2 and "optimizer_states" not in saved  # the last epoch's weights
    assert _same_tensors(saved["state_dict"], trainer.lightning_module.state_dict())


def test_a_custom_checkpoint_io_writes_the_autolog_checkpoint(client):
    from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

    written: list[str] = []

    class RecordingIO(TorchCheckpointIO):
        def save_checkpoint(self, checkpoint, path, storage_options=None):
            written.append(os.path.basename(path))
            super().save_checkpoint(checkpoint, path, storage_options)

    pytorch_autolog.autolog(checkpoint_monitor=None, log_models=False)
    train, val = mnist_like_loaders(batches=2)
    trainer = quiet_trainer(pl, max_epochs=2, plugins=[RecordingIO()], enable_checkpointing=False)
    trainer.fit(mnist_like_module(pl), train, val)
    assert written == ["latest_checkpoint.pth", "latest_checkpoint.pth"]
    run_id = mltrail.last_active_run().info.run_id
    saved = _load(client, run_id, "checkpoints/latest_checkpoint.pth")
    assert saved["epoch"] == 1
    assert _same_tensors(saved["state_dict"], trainer.lightning_module.state_dict())


def test_a_checkpoint_that_cannot_be_stored_is_a_warning_and_training_goes_on(client, caplog):
    pytorch_autolog.autolog(log_models=False)
    train, val = mnist_like_loaders(batches=2)
    trainer = quiet_trainer(pl, max_epochs=2)
    with mltrail.start_run() as run:
        # A file where the checkpoints folder should be: every checkpoint write fails.
        mltrail.log_text("not a folder", "checkpoints")
        with caplog.at_level(logging.WARNING):
            trainer.fit(mnist_like_module(pl), train, val)
    assert trainer.current_epoch == 2  # both epochs trained
    failures = [r for r in caplog.records if "unexpected error during pytorch" in r.getMessage()]
    assert len(failures) == 2  # one per epoch's checkpoint, none swallowed
    assert "mlflow.latest_checkpoint_artifact" not in client.get_run(run.info.run_id).data.tags
