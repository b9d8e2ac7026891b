"""PyTorch autologging: PyTorch Lightning's ``Trainer.fit`` (both ``lightning.pytorch`` and the
older ``pytorch_lightning`` package) logs params, metrics per epoch (and per step on request),
early stopping, checkpoints and the final model. Plain PyTorch loops use ``TrainingTracker``."""

from __future__ import annotations

from typing import Any

from mltrail.autologging import config, import_hooks, safety

FLAVOR = "pytorch"
LIGHTNING_PACKAGES = ("lightning.pytorch", "pytorch_lightning")


def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    checkpoint: bool = True,
    checkpoint_monitor: str | None = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_weights_only: bool = False,
    checkpoint_save_freq: str | int = "epoch",
    log_model_signatures: bool = True,
    _explicit: bool = True,
) -> None:
    """Switch PyTorch Lightning autologging on (MLflow's arguments and defaults), or off."""
    options = {k: v for k, v in locals().items() if k != "_explicit"}
    config.set_config(FLAVOR, options, explicit=_explicit)
    if disable:
        safety.unpatch_all(FLAVOR)
        return
    for package in LIGHTNING_PACKAGES:
        if import_hooks_installed(package):
            import_hooks.when_imported(package, _install)


def import_hooks_installed(package: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(package.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _install(package: Any) -> None:
    from mltrail.autologging.pytorch.lightning_patch import patch_trainer

    patch_trainer(package)


def __getattr__(name: str) -> Any:
    if name in ("TrainingTracker", "track_training"):
        from mltrail.autologging.pytorch import plain

        return getattr(plain, name)
    if name in ("MLFlowLogger", "MltrailLogger"):
        from mltrail.autologging.pytorch import logger

        return getattr(logger, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FLAVOR", "autolog"]
