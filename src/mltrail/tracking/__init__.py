"""Tracking: the explicit client, the fluent API over it, and where data goes.

The client loads on first use, so importing a small part of tracking (``tracking.uri``,
``tracking.context``) does not build the whole client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mltrail.lazy import lazy_attributes

if TYPE_CHECKING:
    from mltrail.tracking.client import MlflowClient, TrailClient
    from mltrail.tracking.uri import get_tracking_uri, set_tracking_uri

_LAZY = {
    "MlflowClient": "mltrail.tracking.client",
    "TrailClient": "mltrail.tracking.client",
    "get_tracking_uri": "mltrail.tracking.uri",
    "set_tracking_uri": "mltrail.tracking.uri",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = ["MlflowClient", "TrailClient", "get_tracking_uri", "set_tracking_uri"]
