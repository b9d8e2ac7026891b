"""Tracking: the explicit client, the fluent API over it, and where data goes.

The client loads on first use, so importing a small part of tracking (``tracking.uri``,
``tracking.context``) does not build the whole client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mltrail.tracking.client import MlflowClient, TrailClient
    from mltrail.tracking.uri import get_tracking_uri, set_tracking_uri

_LAZY = {
    "MlflowClient": "mltrail.tracking.client",
    "TrailClient": "mltrail.tracking.client",
    "get_tracking_uri": "mltrail.tracking.uri",
    "set_tracking_uri": "mltrail.tracking.uri",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # ``mltrail.tracking.<submodule>`` without importing it first, as when the package loaded
        # its modules eagerly.
        try:
            return importlib.import_module(f"mltrail.tracking.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mltrail.tracking.{name}":
                raise
        raise AttributeError(f"module 'mltrail.tracking' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = ["MlflowClient", "TrailClient", "get_tracking_uri", "set_tracking_uri"]
