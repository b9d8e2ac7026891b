# The seed's MNIST autolog example (mlflow/examples/pytorch/MNIST), kept as close to it as
# Lightning 2 allows: `import mltrail as mlflow`, synthetic MNIST-shaped tensors instead of the
# torchvision download, `Trainer.add_argparse_args` and `validation_epoch_end` (both removed
# from Lightning 2) replaced by their current equivalents. The folder beside it is the seed's
# MLproject (MLproject, python_env.yaml, requirements.txt as the post writes them); both
# tests/e2e/test_seed_mnist_project.py and tests/autologging/test_mnist_project.py copy the
# folder and run it with `mltrail run`.
import logging
import os
from argparse import ArgumentParser

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.callbacks.early_stopping import EarlyStopping
from torch.nn import functional as F  # noqa: N812
from torch.utils.data import DataLoader, TensorDataset, random_split

import mltrail as mlflow
import mltrail.pytorch  # noqa: F401 - the seed's `import mlflow.pytorch`

try:
    from torchmetrics.functional import accuracy
except ImportError:
    accuracy = None


class MNISTDataModule(pl.LightningDataModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.args = kwargs

    def setup(self, stage=None):
        generator = torch.Generator().manual_seed(0)
        images = torch.randn(600, 1, 28, 28, generator=generator)
        labels = torch.randint(0, 10, (600,), generator=generator)
        full = TensorDataset(images, labels)
        self.df_train, self.df_val = random_split(full, [500, 100], generator=generator)
        self.df_test = TensorDataset(images[:100], labels[:100])

    def create_data_loader(self, df):
        return DataLoader(
            df, batch_size=self.args["batch_size"], num_workers=self.args["num_workers"]
        )

    def train_dataloader(self):
        return self.create_data_loader(self.df_train)

    def val_dataloader(self):
        return self.create_data_loader(self.df_val)

    def test_dataloader(self):
        return self.create_data_loader(self.df_test)


class LightningMNISTClassifier(pl.LightningModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.optimizer = None
        self.scheduler = None
        self.layer_1 = torch.nn.Linear(28 * 28, 128)
        self.layer_2 = torch.nn.Linear(128, 256)
        self.layer_3 = torch.nn.Linear(256, 10)
        self.args = kwargs
        self.val_outputs = []
        self.test_outputs = []

    @staticmethod
    def add_model_specific_args(parent_parser):
        parser = ArgumentParser(parents=[parent_parser], add_help=False)
        parser.add_argument("--batch_size", type=int, default=64)
        parser.add_argument("--num_workers", type=int, default=3)
        parser.add_argument("--lr", type=float, default=0.001)
        return parser

    def forward(self, x):
        batch_size = x.size()[0]
        x = x.view(batch_size, -1)
        x = torch.relu(self.layer_1(x))
        x = torch.relu(self.layer_2(x))
        x = self.layer_3(x)
        return torch.log_softmax(x, dim=1)

    def cross_entropy_loss(self, logits, labels):
        return F.nll_loss(logits, labels)

    def training_step(self, train_batch, batch_idx):
        x, y = train_batch
        loss = self.cross_entropy_loss(self.forward(x), y)
        self.log("train_loss", loss)
        return {"loss": loss}

    def validation_step(self, val_batch, batch_idx):
        x, y = val_batch
        loss = self.cross_entropy_loss(self.forward(x), y)
        self.val_outputs.append(loss)
        return {"val_step_loss": loss}

    def on_validation_epoch_end(self):
        avg_loss = torch.stack(self.val_outputs).mean()
        self.val_outputs.clear()
        self.log("val_loss", avg_loss, sync_dist=True)

    def test_step(self, test_batch, batch_idx):
        x, y = test_batch
        _, y_hat = torch.max(self.forward(x), dim=1)
        if accuracy is not None:
            test_acc = accuracy(y_hat.cpu(), y.cpu(), task="multiclass", num_classes=10)
        else:
            test_acc = (y_hat == y).float().mean()
        self.test_outputs.append(test_acc)
        return {"test_acc": test_acc}

    def on_test_epoch_end(self):
        self.log("avg_test_acc", torch.stack(self.test_outputs).mean())
        self.test_outputs.clear()

    def configure_optimizers(self):
        self.optimizer = torch.optim.Adam(self.parameters(), lr=self.args["lr"])
        self.scheduler = {
            "scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="min", factor=0.2, patience=2, min_lr=1e-6
            ),
            "monitor": "val_loss",
        }
        return [self.optimizer], [self.scheduler]


if __name__ == "__main__":
    parser = ArgumentParser(description="PyTorch Autolog Mnist Example")
    parser.add_argument("--es_monitor", type=str, default="val_loss")
    parser.add_argument("--es_mode", type=str, default="min")
    parser.add_argument("--es_verbose", type=lambda v: v.lower() == "true", default=True)
    parser.add_argument("--es_patience", type=int, default=3)
    # What pl.Trainer.add_argparse_args gave this script in Lightning 1.x.
    parser.add_argument("--max_epochs", type=int, default=5)
    parser.add_argument("--gpus", type=int, default=None)
    parser.add_argument("--strategy", type=str, default=None)
    parser = LightningMNISTClassifier.add_model_specific_args(parent_parser=parser)

    args = parser.parse_args()
    dict_args = vars(args)
    if "strategy" in dict_args and dict_args["strategy"] == "None":
        dict_args["strategy"] = None

    model = LightningMNISTClassifier(**dict_args)
    dm = MNISTDataModule(**dict_args)
    dm.setup(stage="fit")

    early_stopping = EarlyStopping(
        monitor=dict_args["es_monitor"],
        mode=dict_args["es_mode"],
        verbose=dict_args["es_verbose"],
        patience=dict_args["es_patience"],
    )
    checkpoint_callback = ModelCheckpoint(
        dirpath=os.getcwd(), save_top_k=1, verbose=True, monitor="val_loss", mode="min"
    )
    lr_logger = LearningRateMonitor()

    trainer = pl.Trainer(
        max_epochs=dict_args["max_epochs"],
        callbacks=[lr_logger, early_stopping, checkpoint_callback],
        enable_checkpointing=True,
        accelerator="cpu",
        enable_progress_bar=False,
    )

    # For CPU Training
    if dict_args["gpus"] is None or int(dict_args["gpus"]) == 0:  # noqa: SIM114 - the seed's
        mlflow.pytorch.autolog()
    elif int(dict_args["gpus"]) >= 1 and trainer.global_rank == 0:
        mlflow.pytorch.autolog()
    else:
        logging.info("Active run exists.. ")

    trainer.fit(model, dm)
    trainer.test(datamodule=dm)
