"""``Trainer.fit`` wrapped: pick the run, attach the autolog callback, log the model after."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from mltrail.autologging import config, runs, safety
from mltrail.autologging.pytorch import FLAVOR


def patch_trainer(package: ModuleType) -> None:
    safety.patch(FLAVOR, package.Trainer, "fit", lambda original: _fit_wrapper(original, package))


def _fit_wrapper(original: Callable[..., Any], package: ModuleType) -> Callable[..., Any]:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        options = config.get_config(FLAVOR)
        if options is None or safety.inside(FLAVOR) or getattr(self, "global_rank", 0) != 0:
            return original(self, *args, **kwargs)  # only rank 0 logs under distributed training
        with safety.outermost(FLAVOR), runs.autolog_run(FLAVOR, options) as run_id:
            if run_id is None:
                return original(self, *args, **kwargs)
            from mltrail.autologging.pending_model import PendingModel
            from mltrail.autologging.pytorch import lightning_callback

            # MLflow 3: the model exists (PENDING) from the start of training.
            pending = (
                safety.guarded(FLAVOR, PendingModel.create, run_id, FLAVOR)
                if options.get("log_models")
                else None
            )
            callback = safety.guarded(
                FLAVOR, lightning_callback.attach, self, package, run_id, options, pending
            )
            try:
                result = original(self, *args, **kwargs)
            except BaseException:
                if pending is not None:
                    safety.guarded(FLAVOR, pending.fail)
                raise
            if callback is not None:
                safety.guarded(FLAVOR, callback.after_fit, self)
            if pending is not None:
                safety.guarded(FLAVOR, pending.fail)  # not saved: no READY without files
            return result

    return fit
