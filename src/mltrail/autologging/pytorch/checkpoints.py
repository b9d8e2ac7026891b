"""Checkpoints as run artifacts (``checkpoint=True``), in MLflow's layout:
``checkpoints/latest_checkpoint.pth`` (+ ``_metrics.json``) overwritten whenever the monitored
metric improves, or one folder per epoch / global step when ``checkpoint_save_best_only=False``.

What is stored when: a checkpoint is written synchronously, inside the hook that decides it
(epoch end, or every N steps). When that hook returns, the ``.pth`` file and then its metrics
file are complete in the run's artifacts; nothing is left pending for the end of the fit or of
the run, so a fit that fails later keeps every checkpoint written before. Each file is stored
under a temporary name and renamed, so a reader sees the previous checkpoint or the new one,
never part of one. A failure to write is one warning (the training goes on), as for every
autologging hook.

How, cheaply: with Lightning's plain checkpoint writing (its ``Strategy.save_checkpoint`` and
``TorchCheckpointIO``, the default on one device and under DDP), the checkpoint is assembled
as ``Trainer.save_checkpoint`` assembles it, serialised by ``torch.save`` into memory and handed
to the artifact repository as bytes: a local store writes them once, straight into the run's
folder (no scratch file, no copy). The file is what ``Trainer.save_checkpoint`` writes, and
loads the same way. A custom ``CheckpointIO`` or a strategy with its own ``save_checkpoint``
writes a scratch file its own way, which is then logged as an artifact.
"""

from __future__ import annotations

import io
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
        self._repository: Any = None  # the run's artifact repository, looked up once
        # A scratch folder, made on first need (a custom CheckpointIO writes files only).
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

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
        if self._repository is None:
            self._repository = writer._artifact_repo(self.run_id)
        name = f"{stem}{suffix}"
        data = checkpoint_bytes(trainer, self.weights_only)
        if data is not None:
            self._repository.log_bytes(data, f"{folder}/{name}")
        else:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="mltrail-ckpt-")
            checkpoint = Path(self._scratch.name) / name
            save_alone(trainer, str(checkpoint), self.weights_only)
            writer.log_artifact(self.run_id, str(checkpoint), folder)
        metrics_json = json.dumps(record).encode("utf-8")
        self._repository.log_bytes(metrics_json, f"{folder}/{stem}_metrics.json")
        latest = f"{folder}/{name}"
        if latest != self._latest_tag:  # buffered, and only when it changes
            writer.set_tag(self.run_id, LATEST_CHECKPOINT_TAG, latest)
            self._latest_tag = latest

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def checkpoint_bytes(trainer: Any, weights_only: bool) -> memoryview | None:
    """The checkpoint ``Trainer.save_checkpoint`` would write, as the bytes of the file, when
    Lightning writes it the plain way (its base ``Strategy.save_checkpoint`` handing the dict to
    ``TorchCheckpointIO``, which ``torch.save``s it); None otherwise (a custom CheckpointIO, or
    a strategy that saves its own way: FSDP, DeepSpeed). Nothing here waits for other ranks,
    so it also serves rank 0 alone under DDP (see ``save_alone``)."""
    strategy = trainer.strategy
    saver = getattr(type(strategy), "save_checkpoint", None)
    checkpoint_io = getattr(strategy, "checkpoint_io", None)
    if (
        getattr(saver, "__qualname__", "") != "Strategy.save_checkpoint"
        or type(checkpoint_io).__name__ != "TorchCheckpointIO"
        or not type(checkpoint_io).__module__.endswith("plugins.io.torch_io")
    ):
        return None
    if getattr(trainer, "world_size", 1) > 1 and not _replicated(strategy):
        return None  # save_alone says why there is no checkpoint
    import torch

    with trainer.profiler.profile("save_checkpoint"):
        checkpoint = trainer._checkpoint_connector.dump_checkpoint(weights_only)
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
    return buffer.getbuffer()


def _replicated(strategy: Any) -> bool:
    return type(strategy).__name__ in ("DDPStrategy", "DDPSpawnStrategy")


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
    if not _replicated(strategy):
        raise RuntimeError(
            f"autolog checkpoints are not written under {type(strategy).__name__} "
            "(every rank must take part in assembling a sharded checkpoint)"
        )
    checkpoint = trainer._checkpoint_connector.dump_checkpoint(weights_only)
    strategy.checkpoint_io.save_checkpoint(checkpoint, path)
