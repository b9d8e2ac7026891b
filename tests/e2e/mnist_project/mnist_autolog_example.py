import argparse
import lightning.pytorch as pl
import mltrail.pytorch
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, LearningRateMonitor
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

class MNISTDataModule(pl.LightningDataModule):
    def __init__(self, **kwargs):
        super().__init__(); self.args = kwargs
    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        x = torch.rand(96, 1, 28, 28, generator=g); y = torch.randint(0, 10, (96,), generator=g)
        full = TensorDataset(x, y)
        self.df_train, self.df_val = random_split(full, [64, 32], generator=g)
        self.df_test = TensorDataset(x[:32], y[:32])
    def _dl(self, df): return DataLoader(df, batch_size=self.args["batch_size"], num_workers=0)
    def train_dataloader(self): return self._dl(self.df_train)
    def val_dataloader(self): return self._dl(self.df_val)
    def test_dataloader(self): return self._dl(self.df_test)

class LightningMNISTClassifier(pl.LightningModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.layer_1 = torch.nn.Linear(28 * 28, 128); self.layer_2 = torch.nn.Linear(128, 256); self.layer_3 = torch.nn.Linear(256, 10)
        self.args = kwargs
    def forward(self, x):
        x = x.view(x.size()[0], -1)
        x = torch.relu(self.layer_1(x)); x = torch.relu(self.layer_2(x))
        return torch.log_softmax(self.layer_3(x), dim=1)
    def training_step(self, batch, batch_idx):
        x, y = batch; loss = F.nll_loss(self(x), y); self.log("train_loss", loss); return {"loss": loss}
    def validation_step(self, batch, batch_idx):
        x, y = batch; self.log("val_loss", F.nll_loss(self(x), y), sync_dist=True)
    def test_step(self, batch, batch_idx):
        x, y = batch; out = self(x); acc = (out.argmax(1) == y).float().mean()
        self.log("test_acc", acc)
    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.args["lr"])
        sch = {"scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.2, patience=2, min_lr=1e-6), "monitor": "val_loss"}
        return [opt], [sch]

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for a, t in [("--max_epochs", int), ("--gpus", int), ("--strategy", str), ("--batch_size", int), ("--num_workers", int), ("--lr", float), ("--es_patience", int), ("--es_mode", str), ("--es_verbose", str), ("--es_monitor", str)]:
        p.add_argument(a, type=t)
    args = p.parse_args(); d = vars(args)
    mltrail.pytorch.autolog()
    dm = MNISTDataModule(**d); dm.setup(stage="fit")
    model = LightningMNISTClassifier(**d)
    es = EarlyStopping(monitor=args.es_monitor, mode=args.es_mode, verbose=args.es_verbose == "True", patience=args.es_patience)
    ckpt = ModelCheckpoint(dirpath="ckpt", save_top_k=1, verbose=True, monitor="val_loss", mode="min")
    trainer = pl.Trainer(max_epochs=args.max_epochs, callbacks=[LearningRateMonitor(), es, ckpt], accelerator="cpu", logger=True, enable_progress_bar=False)
    trainer.fit(model, dm)
    trainer.test(model, datamodule=dm)
