"""A Kubeflow training step as in the seed: a YOLO-style trainer whose MLflow callback logs to
a remote tracking server through the real ``mlflow`` client.

Run as ``python yolo_job.py SAVE_DIR EPOCHS``. Like the pipeline step, it is configured only
by the environment: ``MLFLOW_TRACKING_URI``, ``MLFLOW_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``MLFLOW_EXPERIMENT_NAME``. The callback makes the calls
Ultralytics' MLflow integration makes, in the same order and with the same kinds of keys
(``train/box_loss``, ``metrics/mAP50-95B``, ``lr/pg0``...); the trainer is a stand-in that
writes the files a YOLO run writes (weights, results.csv, plots) without training anything.
It prints ``RUN_ID=<id>`` at the end.
"""

from __future__ import annotations

import csv
import math
import os
import random
import sys
from pathlib import Path
from typing import Any

import mlflow


def clean_keys(values: dict[str, Any]) -> dict[str, float]:
    """YOLO's metric names carry '(B)' for box metrics; MLflow keys may not hold parentheses."""
    return {k.replace("(", "").replace(")", ""): float(v) for k, v in values.items()}


class MlflowCallback:
    """The trainer's MLflow hooks: set up at pretrain end, metrics per epoch, files at the end."""

    def __init__(self) -> None:
        self.enabled = False

    def on_pretrain_routine_end(self, trainer: Trainer) -> None:
        uri = os.environ.get("MLFLOW_TRACKING_URI") or str(trainer.save_dir.parent / "mlflow")
        mlflow.set_tracking_uri(uri)
        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or trainer.args["project"]
        run_name = os.environ.get("MLFLOW_RUN") or trainer.args["name"]
        mlflow.set_experiment(experiment)
        mlflow.autolog()
        run = mlflow.active_run() or mlflow.start_run(run_name=run_name)
        print(f"MLflow: logging run_id({run.info.run_id}) to {uri}")
        mlflow.log_params(trainer.args)
        self.enabled = True

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        if self.enabled:
            metrics = {**clean_keys(trainer.lr), **clean_keys(trainer.train_losses)}
            mlflow.log_metrics(metrics=metrics, step=trainer.epoch)

    def on_fit_epoch_end(self, trainer: Trainer) -> None:
        if self.enabled:
            mlflow.log_metrics(metrics=clean_keys(trainer.metrics), step=trainer.epoch)

    def on_train_end(self, trainer: Trainer) -> None:
        if not self.enabled:
            return
        mlflow.log_artifact(str(trainer.best.parent))  # the weights folder
        for f in sorted(trainer.save_dir.glob("*")):
            if f.suffix in {".png", ".jpg", ".csv", ".pt", ".yaml"}:
                mlflow.log_artifact(str(f))
        mlflow.log_artifacts(str(trainer.save_dir / "val"), artifact_path="val")
        if os.environ.get("MLFLOW_KEEP_RUN_ACTIVE", "False").lower() != "true":
            mlflow.end_run()


def yolo_args(epochs: int, save_dir: Path) -> dict[str, Any]:
    """A YOLO training configuration: more than 100 entries, so the client sends them in
    several log-batch calls, with the value types YOLO has (None, bools, floats, paths)."""
    args: dict[str, Any] = {
        "task": "detect",
        "mode": "train",
        "model": "yolov8n.pt",
        "data": "coco128.yaml",
        "epochs": epochs,
        "time": None,
        "patience": 100,
        "batch": 16,
        "imgsz": 640,
        "save": True,
        "save_period": -1,
        "cache": False,
        "device": None,
        "workers": 8,
        "project": "kubeflow-yolo",
        "name": "train",
        "exist_ok": False,
        "pretrained": True,
        "optimizer": "auto",
        "verbose": True,
        "seed": 0,
        "deterministic": True,
        "single_cls": False,
        "rect": False,
        "cos_lr": False,
        "close_mosaic": 10,
        "resume": False,
        "amp": True,
        "fraction": 1.0,
        "profile": False,
        "freeze": None,
        "multi_scale": False,
        "overlap_mask": True,
        "mask_ratio": 4,
        "dropout": 0.0,
        "val": True,
        "split": "val",
        "save_json": False,
        "conf": None,
        "iou": 0.7,
        "max_det": 300,
        "half": False,
        "dnn": False,
        "plots": True,
        "lr0": 0.01,
        "lrf": 0.01,
        "momentum": 0.937,
        "weight_decay": 0.0005,
        "warmup_epochs": 3.0,
        "warmup_momentum": 0.8,
        "warmup_bias_lr": 0.1,
        "box": 7.5,
        "cls": 0.5,
        "dfl": 1.5,
        "hsv_h": 0.015,
        "hsv_s": 0.7,
        "hsv_v": 0.4,
        "degrees": 0.0,
        "translate": 0.1,
        "scale": 0.5,
        "shear": 0.0,
        "perspective": 0.0,
        "flipud": 0.0,
        "fliplr": 0.5,
        "mosaic": 1.0,
        "mixup": 0.0,
        "copy_paste": 0.0,
        "auto_augment": "randaugment",
        "erasing": 0.4,
        "cfg": None,
        "tracker": "botsort.yaml",
        "save_dir": str(save_dir),
    }
    # Augmentation and export switches fill the rest, as in YOLO's default.yaml.
    for i in range(40):
        args[f"extra_option_{i:02d}"] = [i, i + 1] if i % 5 == 0 else i * 0.5
    return args


class Trainer:
    """A stand-in for YOLO's trainer: the same callback moments and output files."""

    def __init__(self, save_dir: Path, epochs: int) -> None:
        self.save_dir = save_dir
        self.args = yolo_args(epochs, save_dir)
        self.best = save_dir / "weights" / "best.pt"
        self.epoch = 0
        self.lr: dict[str, float] = {}
        self.train_losses: dict[str, float] = {}
        self.metrics: dict[str, float] = {}
        self.callbacks = MlflowCallback()
        self.rng = random.Random(0)

    def train(self) -> None:
        (self.save_dir / "weights").mkdir(parents=True)
        (self.save_dir / "val" / "batch0").mkdir(parents=True)
        (self.save_dir / "args.yaml").write_text(
            "".join(f"{k}: {v}\n" for k, v in self.args.items())
        )
        self.callbacks.on_pretrain_routine_end(self)
        rows = []
        for epoch in range(self.args["epochs"]):
            self.epoch = epoch
            decay = math.exp(-0.5 * epoch)
            self.lr = {f"lr/pg{i}": 0.01 * decay for i in range(3)}
            self.train_losses = {
                "train/box_loss": 1.2 * decay,
                "train/cls_loss": 2.5 * decay,
                "train/dfl_loss": 1.1 * decay,
            }
            self.callbacks.on_train_epoch_end(self)
            self.metrics = {
                "metrics/precision(B)": 0.5 + 0.1 * epoch,
                "metrics/recall(B)": 0.4 + 0.1 * epoch,
                "metrics/mAP50(B)": 0.3 + 0.1 * epoch,
                "metrics/mAP50-95(B)": 0.2 + 0.1 * epoch,
                "val/box_loss": 1.3 * decay,
                "val/cls_loss": 2.6 * decay,
                "val/dfl_loss": 1.2 * decay,
            }
            self.callbacks.on_fit_epoch_end(self)
            rows.append({"epoch": epoch, **self.train_losses, **self.metrics})
            weights = bytes(self.rng.getrandbits(8) for _ in range(4096 + epoch))
            (self.save_dir / "weights" / "last.pt").write_bytes(weights)
            (self.save_dir / "weights" / "best.pt").write_bytes(weights)
        with open(self.save_dir / "results.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (self.save_dir / "results.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        (self.save_dir / "confusion_matrix.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cm" * 50)
        (self.save_dir / "val" / "batch0" / "pred.jpg").write_bytes(b"\xff\xd8\xff" + b"j" * 99)
        (self.save_dir / "val" / "labels.txt").write_text("person\nbicycle\ncar\n")
        self.callbacks.on_train_end(self)


def main() -> None:
    save_dir, epochs = Path(sys.argv[1]), int(sys.argv[2])
    trainer = Trainer(save_dir, epochs)
    trainer.train()
    run = mlflow.last_active_run()
    assert run is not None
    print(f"RUN_ID={run.info.run_id}")


if __name__ == "__main__":
    main()
