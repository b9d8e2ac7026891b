"""What autologging reads from a Lightning trainer: params, early stopping, metrics."""

from __future__ import annotations

from typing import Any

SIGNATURE_ROWS = 2


def training_params(trainer: Any) -> dict[str, Any]:
    """MLflow's names: ``epochs``, ``optimizer_name`` and every default of the first optimizer
    (``lr``, ``betas``...); plus ``batch_size`` when the train loader has one."""
    params: dict[str, Any] = {"epochs": trainer.max_epochs}
    optimizers = getattr(trainer, "optimizers", None) or []
    if optimizers:
        optimizer = optimizers[0]
        inner = getattr(optimizer, "optimizer", optimizer)  # LightningOptimizer wraps the real one
        params["optimizer_name"] = type(inner).__name__
        params.update(getattr(inner, "defaults", {}) or {})
    loader = getattr(trainer, "train_dataloader", None)
    batch_size = getattr(loader, "batch_size", None)
    if batch_size is not None:
        params["batch_size"] = batch_size
    return params


def early_stopping_callback(trainer: Any) -> Any | None:
    # By class name over the MRO: ``lightning.pytorch`` and ``pytorch_lightning`` each have
    # their own EarlyStopping class (MLflow only recognises the latter).
    for callback in getattr(trainer, "callbacks", []) or []:
        if any(cls.__name__ == "EarlyStopping" for cls in type(callback).__mro__):
            return callback
    return None


def early_stopping_params(trainer: Any) -> dict[str, Any]:
    stopper = early_stopping_callback(trainer)
    if stopper is None:
        return {}
    return {
        "monitor": stopper.monitor,
        "mode": stopper.mode,
        "patience": stopper.patience,
        "min_delta": stopper.min_delta,
        "stopped_epoch": stopper.stopped_epoch,
    }


def early_stopping_metrics(trainer: Any) -> dict[str, float]:
    stopper = early_stopping_callback(trainer)
    if stopper is None or not stopper.stopped_epoch:
        return {}
    metrics = {
        "stopped_epoch": float(stopper.stopped_epoch),
        "restored_epoch": float(stopper.stopped_epoch - max(1, stopper.patience)),
        "wait_count": float(stopper.wait_count),
    }
    best = getattr(stopper, "best_score", None)
    if best is not None:
        metrics["best_score"] = float(best.item() if hasattr(best, "item") else best)
    return metrics


def best_checkpoint_path(trainer: Any) -> str | None:
    checkpoint = getattr(trainer, "checkpoint_callback", None)
    path = getattr(checkpoint, "best_model_path", None) if checkpoint is not None else None
    return str(path) if path else None


def step_metrics(trainer: Any) -> dict[str, Any]:
    """The values the training step logged for this batch, under the names a logger gets
    (``train_loss_step`` for a metric logged per step and per epoch). Read from the training
    loop's results; without them (another Lightning layout), the ``*_step`` forks."""
    try:
        return dict(trainer.fit_loop.epoch_loop._results.metrics(True)["log"])
    except (AttributeError, KeyError, TypeError):
        return {k: v for k, v in trainer.callback_metrics.items() if k.endswith("_step")}


def model_summary(pl_module: Any) -> str:
    module_name = type(pl_module).__mro__
    package = (
        "pytorch_lightning"
        if any(c.__module__.startswith("pytorch_lightning") for c in module_name)
        else "lightning.pytorch"
    )
    import importlib

    summary_module = importlib.import_module(f"{package}.utilities.model_summary")
    return str(summary_module.ModelSummary(pl_module, max_depth=-1))


def first_tensor_rows(batch: Any) -> Any:
    """The first rows of a batch's input tensor (a Tensor, or the first item of a tuple/list),
    kept to infer the model's signature after training; None for other batch shapes."""
    import torch

    candidate = batch[0] if isinstance(batch, (list, tuple)) and batch else batch
    if isinstance(candidate, torch.Tensor) and candidate.ndim >= 1:
        return candidate[:SIGNATURE_ROWS].detach().cpu().clone()
    return None
