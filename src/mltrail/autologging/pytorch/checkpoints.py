"""Checkpoints as run artifacts (``checkpoint=True``), in MLflow's layout:
``checkpoints/latest_checkpoint.pth`` (+ ``_metrics.json``) overwritten whenever the monitored
metric improves, or one folder per epoch / global step when ``checkpoint_save_best_only=False``."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.autologging import runs

LATEST_CHECKPOINT_TAG = "mlflow.latest_checkpoint_artifact"


class CheckpointLogger:
    def __init__(self, run_id: str, options: Mapping[str, Any]) -> None:
        self.run_id = run_id
        self.monitor = options.get("checkpoint_monitor")
        self.mode = options.get("checkpoint_mode", "min")
        if self.mode not in ("min", "max"):
            raise ValueError(f"checkpoint_mode must be 'min' or 'max', not {self.mode!r}.")
        self.best_only = bool(options.get("checkpoint_save_best_only", True))
        self.weights_only = bool(options.get("checkpoint_save_weights_only", False))
        freq = options.get("checkpoint_save_freq", "epoch")
        self.every_n_steps = int(freq) if not isinstance(freq, str) else 0
        self.best: float | None = None
        self._latest_tag: str | None = None
        # One scratch folder per fit, reused: a checkpoint a time passes through it.
        self._scratch = tempfile.TemporaryDirectory(prefix="mltrail-ckpt-")

    def on_epoch(self, trainer: Any) -> None:
        self._maybe_save(trainer, f"epoch_{trainer.current_epoch}")

    def on_step(self, trainer: Any) -> None:
        step = trainer.global_step
        if step and step % self.every_n_steps == 0:
            self._maybe_save(trainer, f"global_step_{step}")

    def _improved(self, metrics: Mapping[str, Any]) -> bool:
        if self.monitor is None:
            return True
        value = runs.to_float(metrics.get(self.monitor))
        if value is None:
            return False
        better = self.best is None or (
            value < self.best if self.mode == "min" else value > self.best
        )
        if better:
            self.best = value
        return better

    def _maybe_save(self, trainer: Any, folder_name: str) -> None:
        metrics = dict(trainer.callback_metrics)
        if self.best_only and not self._improved(metrics):
            return
        suffix = ".weights.pth" if self.weights_only else ".pth"
        if self.best_only:
            stem, folder = "latest_checkpoint", "checkpoints"
        else:
            stem, folder = "checkpoint", f"checkpoints/{folder_name}"
        record = {
            k: v for k, v in ((k, runs.to_float(v)) for k, v in metrics.items()) if v is not None
        }
        record.update(epoch=trainer.current_epoch, global_step=trainer.global_step)
        writer = runs.client()
        scratch = Path(self._scratch.name)
        checkpoint = scratch / f"{stem}{suffix}"
        save_alone(trainer, str(checkpoint), self.weights_only)
        metrics_file = scratch / f"{stem}_metrics.json"
        metrics_file.write_text(json.dumps(record), encoding="utf-8")
        writer.log_artifact(self.run_id, str(checkpoint), folder)
        writer.log_artifact(self.run_id, str(metrics_file), folder)
        latest = f"{folder}/{checkpoint.name}"
        if latest != self._latest_tag:  # buffered, and only when it changes
            writer.set_tag(self.run_id, LATEST_CHECKPOINT_TAG, latest)
            self._latest_tag = latest

    def close(self) -> None:
        self._scratch.cleanup()


def save_alone(trainer: Any, path: str, weights_only: bool) -> None:
    """Write a checkpoint from this rank alone. ``Trainer.save_checkpoint`` ends with a
    barrier that every rank must reach, and only rank 0 autologs: under distributed training
    (world size > 1) that barrier would wait forever. There the checkpoint is assembled and
    written here, without it; a replicated strategy (DDP) holds the whole state on every rank.
    A sharded one (FSDP, DeepSpeed) needs every rank to assemble it: no autolog checkpoint."""
    if getattr(trainer, "world_size", 1) <= 1:
        trainer.save_checkpoint(path, weights_only=weights_only)
        return
    strategy = trainer.strategy
    if type(strategy).__name__ not in ("DDPStrategy", "DDPSpawnStrategy"):
        raise RuntimeError(
            f"autolog checkpoints are not written under {type(strategy).__name__} "
            "(every rank must take part in assembling a sharded checkpoint)"
        )
    checkpoint = trainer._checkpoint_connector.dump_checkpoint(weights_only)
    strategy.checkpoint_io.save_checkpoint(checkpoint, path)
