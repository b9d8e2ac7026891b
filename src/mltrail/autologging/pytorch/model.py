"""The trained Lightning module as the run's ``model`` (through ``mltrail.pytorch``), with a
signature from the first training batch when ``forward`` maps one Tensor to one Tensor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.autologging import model_logging, safety
from mltrail.autologging.pytorch import FLAVOR


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
    run_id: str, trainer: Any, sample: Any, options: Mapping[str, Any]
) -> Any | None:
    module = trainer.lightning_module
    signature = None
    if options.get("log_model_signatures"):
        signature = safety.guarded(FLAVOR, signature_for, module, sample)
    return model_logging.log_with_flavor(
        "pytorch",
        FLAVOR,
        run_id,
        module,
        "model",
        signature=signature,
        registered_model_name=options.get("registered_model_name"),
    )
