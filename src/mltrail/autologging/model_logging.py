"""Logging a trained model through its flavor (``mltrail.sklearn``, ``mltrail.pytorch``...),
with a signature inferred from a few training rows. A flavor that is not available, or a model
that cannot be saved, costs a warning, never the training."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

from mltrail.autologging import safety
from mltrail.tracking import fluent

EXAMPLE_ROWS = 5


def flavor_module(name: str) -> Any | None:
    """``mltrail.<name>`` when that flavor exists in this installation, else None."""
    try:
        if importlib.util.find_spec(f"mltrail.{name}") is None:
            return None
    except (ImportError, ValueError):
        return None
    return importlib.import_module(f"mltrail.{name}")


def head(data: Any, rows: int = EXAMPLE_ROWS) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[:rows]
    try:
        return data[:rows]
    except Exception:  # noqa: BLE001 - not sliceable: no example
        return None


def infer_signature(model_input: Any, predict: Callable[[Any], Any]) -> Any | None:
    models = flavor_module("models")
    if models is None or not hasattr(models, "infer_signature") or model_input is None:
        return None
    return models.infer_signature(model_input, predict(model_input))


def log_with_flavor(
    flavor_name: str,
    flavor_label: str,
    run_id: str,
    model: Any,
    name: str,
    **kwargs: Any,
) -> Any | None:
    """Call ``mltrail.<flavor>.log_model(model, name=..., **kwargs)`` into ``run_id`` (which must
    be the active run, as MLflow's log_model writes there)."""
    flavor = flavor_module(flavor_name)
    if flavor is None or not hasattr(flavor, "log_model"):
        return None
    active = fluent.active_run()
    if active is None or active.info.run_id != run_id:
        with fluent.start_run(run_id=run_id, nested=active is not None):
            return _log(flavor, flavor_label, model, name, kwargs)
    return _log(flavor, flavor_label, model, name, kwargs)


def _log(flavor: Any, label: str, model: Any, name: str, kwargs: Mapping[str, Any]) -> Any | None:
    return safety.guarded(
        label,
        flavor.log_model,
        model,
        name=name,
        **{k: v for k, v in kwargs.items() if v is not None},
    )
