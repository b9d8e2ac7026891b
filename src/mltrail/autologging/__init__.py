"""Autologging: one line turns on tracking for the frameworks a script uses.

``mltrail.autolog()`` switches on every integration below for the libraries that are (or later
get) imported, and quietly nothing for the rest. Each integration also has its own switch,
``mltrail.autologging.<flavor>.autolog(...)`` (reachable as ``mltrail.<flavor>.autolog``), with
MLflow's arguments and defaults.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from mltrail.autologging import config, import_hooks, safety

# integration -> the modules whose import turns it on (MLflow's mapping)
INTEGRATIONS: dict[str, tuple[str, ...]] = {
    "sklearn": ("sklearn",),
    "pytorch": ("lightning", "pytorch_lightning"),
    "xgboost": ("xgboost",),
    "lightgbm": ("lightgbm",),
    "spark": ("pyspark",),
}


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
    exclude_flavors: Sequence[str] | None = None,
) -> None:
    """Turn autologging on (or, with ``disable=True``, off) for every supported library."""
    given = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "disable": disable,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    excluded = set(exclude_flavors or ())
    for flavor, modules in INTEGRATIONS.items():
        if flavor in excluded:
            continue
        if config.was_set_explicitly(flavor) and not disable:
            continue  # the user configured it with its own autolog(): keep that
        if not any(_installed(name) for name in modules):
            continue
        hook = _enabler(flavor, given)
        for name in modules:
            if _installed(name):
                import_hooks.when_imported(name, hook)


def _installed(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False


def _enabler(flavor: str, given: dict[str, Any]) -> import_hooks.Callback:
    done: list[bool] = []

    def enable(_module: ModuleType) -> None:
        if done:  # lightning and pytorch_lightning both trigger the one integration
            return
        done.append(True)
        try:
            integration = importlib.import_module(f"mltrail.autologging.{flavor}")
            accepted = inspect.signature(integration.autolog).parameters
            kwargs = {k: v for k, v in given.items() if k in accepted}
            integration.autolog(**kwargs, _explicit=False)
            if not given["disable"]:
                safety.info(flavor, "Autologging successfully enabled for %s.", flavor)
        except Exception as exc:  # noqa: BLE001 - one library's trouble must not stop the rest
            safety.warn_failure(flavor, exc)

    return enable


__all__ = ["INTEGRATIONS", "autolog"]
