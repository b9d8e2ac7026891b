"""A Lightning module shaped like the seed's MNIST example (28x28 inputs, three linear layers,
log-softmax, Adam), built for either Lightning package, and synthetic MNIST-shaped data."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import lightning.pytorch
import torch
from torch.nn import functional as F  # noqa: N812


class _MNISTShaped:
    """The seed's layers and hooks; mixed into each package's LightningModule below (at module
    level, so a logged model can be pickled and loaded back)."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.layer_1 = torch.nn.Linear(28 * 28, 32)
        self.layer_2 = torch.nn.Linear(32, 16)
        self.layer_3 = torch.nn.Linear(16, 10)
        self.lr = lr

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = torch.relu(self.layer_1(x))
        x = torch.relu(self.layer_2(x))
        return torch.log_softmax(self.layer_3(x), dim=1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.nll_loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        self.log("val_loss", F.nll_loss(out, y))
        self.log("val_acc", (out.argmax(dim=1) == y).float().mean())

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("avg_test_acc", (self(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class LightningMNISTClassifier(_MNISTShaped, lightning.pytorch.LightningModule):
    pass


try:
    import pytorch_lightning

    class PLMNISTClassifier(_MNISTShaped, pytorch_lightning.LightningModule):
        pass

except ImportError:  # the older package is optional
    PLMNISTClassifier = None  # type: ignore[assignment,misc]


def mnist_like_module(pl: ModuleType, lr: float = 0.01) -> Any:
    if pl.__name__ == "pytorch_lightning":
        return PLMNISTClassifier(lr=lr)
    return LightningMNISTClassifier(lr=lr)


def mnist_like_loaders(batches: int = 4, batch_size: int = 16) -> tuple[Any, Any]:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    generator = torch.Generator().manual_seed(0)
    n = batches * batch_size
    x = torch.randn(n, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    train = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    val = DataLoader(TensorDataset(x[:batch_size], y[:batch_size]), batch_size=batch_size)
    return train, val


def quiet_trainer(pl: ModuleType, **kwargs: Any) -> Any:
    kwargs.setdefault("logger", False)
    return pl.Trainer(
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        default_root_dir=".",
        **kwargs,
    )
