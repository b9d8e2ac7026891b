"""What each integration was switched on with.

One entry per integration (``sklearn``, ``pytorch``, ``xgboost``, ``lightgbm``): the options
given to its ``autolog`` call, with MLflow's defaults filled in. The patched framework methods
read this on every call, so ``autolog(disable=True)`` takes effect at the next ``fit``.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_configs: dict[str, dict[str, Any]] = {}
# Integrations whose own ``<flavor>.autolog()`` the user called: ``mltrail.autolog()`` leaves
# their configuration alone, as MLflow does.
_explicit: set[str] = set()


def set_config(flavor: str, options: dict[str, Any], explicit: bool) -> None:
    with _lock:
        _configs[flavor] = dict(options)
        if explicit:
            _explicit.add(flavor)


def get_config(flavor: str) -> dict[str, Any] | None:
    """The options of an enabled integration, or None when it is off (never or disabled)."""
    config = _configs.get(flavor)
    if config is None or config.get("disable"):
        return None
    return config


def get_option(flavor: str, key: str, default: Any = None) -> Any:
    config = _configs.get(flavor)
    return default if config is None else config.get(key, default)


def was_set_explicitly(flavor: str) -> bool:
    return flavor in _explicit


def reset() -> None:
    """Forget every configuration (tests, and ``autolog(disable=True)`` everywhere)."""
    with _lock:
        _configs.clear()
        _explicit.clear()
