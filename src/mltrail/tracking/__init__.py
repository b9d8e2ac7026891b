"""Tracking: the explicit client, the fluent API over it, and where data goes."""

from mltrail.tracking.client import MlflowClient, TrailClient
from mltrail.tracking.uri import get_tracking_uri, set_tracking_uri

__all__ = ["MlflowClient", "TrailClient", "get_tracking_uri", "set_tracking_uri"]
