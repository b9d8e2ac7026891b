"""Lightning's own ``MLFlowLogger`` (the real ``lightning`` package and the real ``mlflow``
client) pointed at a live ``mltrail server``: a tiny model trained for two epochs on random
tensors. Hyperparameters, per-step and per-epoch metrics, and (``log_model=True``) the best
checkpoint with its metadata must land on the server and load back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before mlflow is imported: no telemetry from tests.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

torch = pytest.importorskip("torch", reason="needs torch==2.13.0 (the dev extra installs it)")
L = pytest.importorskip("lightning", reason="needs lightning>=2.2 (the dev extra installs it)")

from e2e_helpers import clean_env, cli_server  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from lightning.pytorch.loggers import MLFlowLogger  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from mltrail.tracking.client import TrailClient  # noqa: E402

pytestmark = pytest.mark.timeout(120)

EPOCHS = 2
TRAIN_BATCHES = 4  # 64 samples in batches of 16


class TinyRegressor(L.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.05, schedule: dict | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.net(x)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loaders() -> tuple[DataLoader, DataLoader]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(96, 4, generator=gen)
    y = x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(96, 1, generator=gen)
    train = TensorDataset(x[:64], y[:64])
    val = TensorDataset(x[64:], y[64:])
    return DataLoader(train, batch_size=16), DataLoader(val, batch_size=16)


@pytest.fixture(autouse=True)
def _forget_tracking_uri() -> Iterator[None]:
    """MLFlowLogger sets mlflow's global tracking URI; do not leave it to later tests."""
    import mlflow

    yield
    mlflow.set_tracking_uri(None)


def test_mlflow_logger_trains_into_mltrail(tmp_path: Path) -> None:
    torch.manual_seed(0)
    args = ["--backend-store-uri", f"sqlite:///{tmp_path / 'mltrail.db'}"]
    with cli_server(args, tmp_path, clean_env()) as server:
        logger = MLFlowLogger(
            experiment_name="lightning-e2e",
            run_name="tiny",
            tracking_uri=server.url,
            log_model=True,
            tags={"team": "vision"},
        )
        checkpoints = ModelCheckpoint(
            dirpath=tmp_path / "checkpoints", monitor="val_loss", mode="min", save_top_k=1
        )
        trainer = L.Trainer(
            max_epochs=EPOCHS,
            logger=logger,
            callbacks=[checkpoints],
            log_every_n_steps=1,
            accelerator="cpu",
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
        )
        model = TinyRegressor(hidden=8, lr=0.05, schedule={"warmup": 1, "kind": "cosine"})
        train, val = loaders()
        trainer.fit(model, train, val)

        client = TrailClient(server.url)
        run = client.get_run(logger.run_id)
        assert run.info.status == "FINISHED"
        assert run.info.run_name == "tiny"
        assert run.data.tags["team"] == "vision"
        assert client.get_experiment(run.info.experiment_id).name == "lightning-e2e"

        # Hyperparameters, nested ones flattened with '/'.
        assert run.data.params == {
            "hidden": "8",
            "lr": "0.05",
            "schedule/warmup": "1",
            "schedule/kind": "cosine",
        }

        # Per-step metrics: one point for each of the 8 training steps.
        steps = client.get_metric_history(run.info.run_id, "train_loss_step")
        assert len(steps) == EPOCHS * TRAIN_BATCHES
        assert sorted(m.step for m in steps) == list(range(EPOCHS * TRAIN_BATCHES))
        # Per-epoch metrics: one point per epoch, logged at the epoch's last step.
        for key in ("train_loss_epoch", "val_loss"):
            history = client.get_metric_history(run.info.run_id, key)
            assert len(history) == EPOCHS, key
        # Lightning logs the epoch number beside every step's metrics and every epoch's.
        epochs = client.get_metric_history(run.info.run_id, "epoch")
        assert {m.value for m in epochs} == {0.0, 1.0}
        val = client.get_metric_history(run.info.run_id, "val_loss")
        best_val = min(m.value for m in val)
        assert run.data.metrics["val_loss"] == max(val, key=lambda m: m.step).value

        # The best checkpoint, logged at the end of training with its metadata and aliases.
        best = Path(checkpoints.best_model_path)
        assert [(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)] == [
            (best.stem, True)
        ]
        inside = {f.path for f in client.list_artifacts(run.info.run_id, best.stem)}
        assert inside == {f"{best.stem}/{n}" for n in (best.name, "metadata.yaml", "aliases.txt")}
        out = Path(client.download_artifacts(run.info.run_id, best.stem, str(tmp_path / "dl")))
        assert (out / best.name).read_bytes() == best.read_bytes()
        assert (out / "aliases.txt").read_text() == "['latest', 'best']"
        metadata = (out / "metadata.yaml").read_text()
        assert "monitor: val_loss" in metadata
        assert f"original_filename: {best.name}" in metadata
        assert float(metadata.split("score: ", 1)[1].split()[0]) == pytest.approx(best_val)

        restored = TinyRegressor.load_from_checkpoint(out / best.name)
        assert dict(restored.hparams) == dict(model.hparams)
        saved = torch.load(best, weights_only=False)["state_dict"]
        for name, tensor in restored.state_dict().items():
            assert torch.equal(tensor, saved[name]), name
