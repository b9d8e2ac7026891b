"""The callback autologging adds to a Lightning ``Trainer``: params at train start, metrics per
epoch (and per step on request), checkpoints, test metrics, and after ``fit`` the early-stopping
outcome and the model.

It is built once per Lightning package (``lightning.pytorch`` and ``pytorch_lightning`` have
separate ``Callback`` base classes). Every hook is guarded: a failure is one warning, and the
training goes on.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mltrail.autologging import runs, safety
from mltrail.autologging.pytorch import FLAVOR
from mltrail.autologging.pytorch import lightning_info as info

if TYPE_CHECKING:
    from mltrail.autologging.pending_model import PendingModel


class AutologHooks:
    """The package-independent part; ``callback_class`` mixes it into a real Callback."""

    def __init__(
        self, run_id: str, options: Mapping[str, Any], pending: PendingModel | None = None
    ) -> None:
        self.run_id = run_id
        self.pending = pending
        self.options = dict(options)
        every_step = options.get("log_every_n_step")
        self.every_n_step: int | None = int(every_step) if every_step else None
        self.every_n_epoch = max(1, int(options.get("log_every_n_epoch") or 1))
        self.step_keys: set[str] = set()
        self.epoch_keys: set[str] = set()
        self.sample_input: Any = None
        from mltrail.autologging.pytorch.checkpoints import CheckpointLogger

        self.checkpoints = CheckpointLogger(run_id, options) if options.get("checkpoint") else None

    # -- Lightning hooks ------------------------------------------------------------------------
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        safety.guarded(FLAVOR, self._log_train_start, trainer, pl_module)

    def on_train_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.sample_input is None and self.options.get("log_model_signatures"):
            rows = safety.guarded(FLAVOR, info.first_tensor_rows, batch)
            self.sample_input = rows if rows is not None else False  # False: looked, none

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.every_n_step is not None:
            safety.guarded(FLAVOR, self._log_step, trainer)
        if self.checkpoints is not None and self.checkpoints.every_n_steps:
            safety.guarded(FLAVOR, self.checkpoints.on_step, trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        epoch = trainer.current_epoch
        if (epoch + 1) % self.every_n_epoch == 0:
            safety.guarded(FLAVOR, self._log_epoch, trainer, epoch)
        if self.checkpoints is not None and not self.checkpoints.every_n_steps:
            safety.guarded(FLAVOR, self.checkpoints.on_epoch, trainer)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        safety.guarded(FLAVOR, self._log_test, trainer)

    # -- what they log --------------------------------------------------------------------------
    def _log_train_start(self, trainer: Any, pl_module: Any) -> None:
        params = info.training_params(trainer)
        params.update(info.early_stopping_params(trainer))
        runs.log_params(FLAVOR, self.run_id, params)
        runs.set_tags(self.run_id, {"Mode": "training"})
        summary = safety.guarded(FLAVOR, info.model_summary, pl_module)
        if summary:
            runs.client().log_text(self.run_id, summary, "model_summary.txt")

    def _log_step(self, trainer: Any) -> None:
        assert self.every_n_step is not None
        optimizers = max(1, len(getattr(trainer, "optimizers", []) or [1]))
        step = trainer.global_step
        if ((step // optimizers) + 1) % self.every_n_step != 0:
            return
        metrics = info.step_metrics(trainer)
        self.step_keys.update(metrics)
        runs.log_metrics(self.run_id, metrics, step=step)

    def _log_epoch(self, trainer: Any, epoch: int) -> None:
        metrics = {k: v for k, v in trainer.callback_metrics.items() if k not in self.step_keys}
        self.epoch_keys.update(metrics)
        runs.log_metrics(self.run_id, metrics, step=epoch)

    def _log_test(self, trainer: Any) -> None:
        runs.log_metrics(self.run_id, dict(trainer.callback_metrics), step=0)
        runs.set_tags(self.run_id, {"Mode": "testing"})

    # -- after fit --------------------------------------------------------------------------------
    def after_fit(self, trainer: Any) -> None:
        if self.checkpoints is not None:
            self.checkpoints.close()
        stopped = safety.guarded(FLAVOR, info.early_stopping_metrics, trainer) or {}
        runs.log_metrics(self.run_id, stopped)
        if stopped:
            best = safety.guarded(FLAVOR, info.best_checkpoint_path, trainer)
            if best:
                runs.client().log_artifact(self.run_id, best, "restored_model_checkpoint")
        if self.options.get("log_models"):
            from mltrail.autologging.pytorch.model import log_lightning_model

            sample = self.sample_input if self.sample_input is not False else None
            log_lightning_model(self.run_id, trainer, sample, self.options, self.pending,
                                history_keys=self.epoch_keys)


@functools.cache
def callback_class(package: ModuleType) -> type:
    base = package.Callback
    return type("MltrailAutologCallback", (AutologHooks, base), {"__module__": __name__})


def attach(
    trainer: Any,
    package: ModuleType,
    run_id: str,
    options: Mapping[str, Any],
    pending: PendingModel | None = None,
) -> AutologHooks:
    """Add a fresh autolog callback (replacing one left by an earlier ``fit``)."""
    trainer.callbacks[:] = [c for c in trainer.callbacks if not isinstance(c, AutologHooks)]
    callback: AutologHooks = callback_class(package)(run_id, options, pending)
    trainer.callbacks.append(callback)
    return callback
