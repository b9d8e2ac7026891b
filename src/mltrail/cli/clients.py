"""The one way commands reach the tracking store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mltrail.tracking.client import TrailClient


def client_for(tracking_uri: str | None) -> TrailClient:
    """A client for ``--tracking-uri`` (or the environment, or ./mltrail.db).

    An explicit URI is made the process's tracking URI, so the embedded-store notice (meant
    for people who did not choose a place) is printed only when none was given.
    """
    from mltrail.tracking import uri as tracking_uri_mod
    from mltrail.tracking.client import TrailClient

    if tracking_uri:
        tracking_uri_mod.set_tracking_uri(tracking_uri)
    return TrailClient()
