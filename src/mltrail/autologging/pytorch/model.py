"""The trained Lightning module as the run's ``model`` (through ``mltrail.pytorch``), with a
signature from the first training batch when ``forward`` maps one Tensor to one Tensor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mltrail.autologging import model_logging, safety
from mltrail.autologging.pytorch import FLAVOR

if TYPE_CHECKING:
    from mltrail.autologging.pending_model import PendingModel


def signature_for(module: Any, sample: Any) -> Any | None:
    import torch

    if sample is None:
        return None
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            output = module(sample.to(module.device))
    finally:
        module.train(was_training)
    if not isinstance(output, torch.Tensor):
        return None
    return model_logging.infer_signature(sample.numpy(), lambda _x: output.detach().cpu().numpy())


def log_lightning_model(
    run_id: str,
    trainer: Any,
    sample: Any,
    options: Mapping[str, Any],
    pending: PendingModel | None = None,
    history_keys: Iterable[str] = (),
) -> Any | None:
    """Save the trained module as the run's ``model``: into the PENDING logged model made at
    fit start (then READY), or, without one, through ``mltrail.pytorch.log_model``."""
    module = trainer.lightning_module
    signature = None
    if options.get("log_model_signatures"):
        signature = safety.guarded(FLAVOR, signature_for, module, sample)
    if pending is not None:
        return safety.guarded(
            FLAVOR,
            pending.save,
            "pytorch",
            module,
            history_keys=history_keys,
            registered_model_name=options.get("registered_model_name"),
            signature=signature,
        )
    return model_logging.log_with_flavor(
        "pytorch",
        FLAVOR,
        run_id,
        module,
        "model",
        signature=signature,
        registered_model_name=options.get("registered_model_name"),
    )
