"""The one way commands reach the tracking store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mltrail.tracking.client import TrailClient


def client_for(tracking_uri: str | None, must_exist: bool = False) -> TrailClient:
    """A client for ``--tracking-uri`` (or the environment, or ./mltrail.db).

    An explicit URI is made the process's tracking URI, so the embedded-store notice (meant
    for people who did not choose a place) is printed only when none was given. With
    ``must_exist`` (commands that read or change what is there) no SQLite store is created:
    the command says that none is there.
    """
    from mltrail.exceptions import NotFound
    from mltrail.tracking import uri as tracking_uri_mod
    from mltrail.tracking.client import TrailClient

    if tracking_uri:
        tracking_uri_mod.set_tracking_uri(tracking_uri)
    resolved = tracking_uri_mod.get_tracking_uri()
    if must_exist and tracking_uri_mod.is_new_sqlite_store(resolved):
        raise NotFound(
            f"No mltrail store at {tracking_uri_mod.sqlite_path(resolved)}. Make one by logging "
            "a run (mltrail.start_run()) or with `mltrail experiments create -n NAME` here, or "
            "point --tracking-uri (or MLTRAIL_TRACKING_URI) at an existing store."
        )
    return TrailClient()
