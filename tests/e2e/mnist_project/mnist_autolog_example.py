"""Seed 000's mnist_autolog_example.py, cut down: the same data module, classifier, callbacks
and ``mlflow.pytorch.autolog()``, on synthetic tensors shaped like MNIST (no download)."""

import argparse

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

import mltrail.pytorch


class MNISTDataModule(pl.LightningDataModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.args = kwargs

    def setup(self, stage=None):
        gen = torch.Generator().manual_seed(0)
        images = torch.rand(96, 1, 28, 28, generator=gen)
        labels = torch.randint(0, 10, (96,), generator=gen)
        full = TensorDataset(images, labels)
        self.df_train, self.df_val = random_split(full, [64, 32], generator=gen)
        self.df_test = TensorDataset(images[:32], labels[:32])

    def create_data_loader(self, df):
        return DataLoader(df, batch_size=self.args["batch_size"], num_workers=0)

    def train_dataloader(self):
        return self.create_data_loader(self.df_train)

    def val_dataloader(self):
        return self.create_data_loader(self.df_val)

    def test_dataloader(self):
        return self.create_data_loader(self.df_test)


class LightningMNISTClassifier(pl.LightningModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.layer_1 = torch.nn.Linear(28 * 28, 128)
        self.layer_2 = torch.nn.Linear(128, 256)
        self.layer_3 = torch.nn.Linear(256, 10)
        self.args = kwargs

    def forward(self, x):
        x = x.view(x.size()[0], -1)
        x = torch.relu(self.layer_1(x))
        x = torch.relu(self.layer_2(x))
        return torch.log_softmax(self.layer_3(x), dim=1)

    def training_step(self, train_batch, batch_idx):
        x, y = train_batch
        loss = F.nll_loss(self(x), y)
        self.log("train_loss", loss)
        return {"loss": loss}

    def validation_step(self, val_batch, batch_idx):
        x, y = val_batch
        self.log("val_loss", F.nll_loss(self(x), y), sync_dist=True)

    def test_step(self, test_batch, batch_idx):
        x, y = test_batch
        accuracy = (self(x).argmax(dim=1) == y).float().mean()
        self.log("test_acc", accuracy)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.args["lr"])
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=0.2, patience=2, min_lr=1e-6
        )
        return [optimizer], [{"scheduler": scheduler, "monitor": "val_loss"}]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int)
    parser.add_argument("--gpus", type=int)
    parser.add_argument("--strategy", type=str)
    parser.add_argument("--batch_size", type=int)
    parser.add_argument("--num_workers", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--es_patience", type=int)
    parser.add_argument("--es_mode", type=str)
    parser.add_argument("--es_verbose", type=str)
    parser.add_argument("--es_monitor", type=str)
    args = parser.parse_args()
    dict_args = vars(args)

    mltrail.pytorch.autolog()

    dm = MNISTDataModule(**dict_args)
    dm.setup(stage="fit")
    model = LightningMNISTClassifier(**dict_args)
    early_stopping = EarlyStopping(
        monitor=args.es_monitor,
        mode=args.es_mode,
        verbose=args.es_verbose == "True",
        patience=args.es_patience,
    )
    checkpoint = ModelCheckpoint(
        dirpath=".", save_top_k=1, verbose=True, monitor="val_loss", mode="min"
    )
    trainer = pl.Trainer(
        max_epochs=args.max_epochs,
        callbacks=[LearningRateMonitor(), early_stopping, checkpoint],
        accelerator="cpu",
        enable_progress_bar=False,
    )
    trainer.fit(model, dm)
    trainer.test(model, datamodule=dm)
