"""What every client of one store shares in this process: its write buffer and the runs known
to be active in it. Kept beside the store (one session per store object), not set on it: the
store knows nothing of the clients that buffer writes for it."""

from __future__ import annotations

import threading

from mltrail.exceptions import InvalidParameter
from mltrail.store.base import TrackingStore
from mltrail.tracking.buffer import WriteBuffer

_MAX_KNOWN_RUNS = 100_000


class StoreSession:
    """A store with its write buffer, and the ids of runs this process has seen active in it
    (made, read or written here): writes to those skip the existence check."""

    def __init__(self, store: TrackingStore) -> None:
        self.store = store
        self.buffer = WriteBuffer(store.write_points)
        self.known_runs: set[str] = set()

    def know_run(self, run_id: str) -> None:
        known = self.known_runs
        if len(known) >= _MAX_KNOWN_RUNS:
            known.clear()
        known.add(run_id)

    def require_active_run(self, run_id: str) -> None:
        """Raise at the call, as MLflow does, when a write targets a run that does not exist
        or is deleted. Each run is looked up once per process."""
        run = self.store.get_run(run_id)  # NotFound (RESOURCE_DOES_NOT_EXIST) if missing
        if run.info.lifecycle_stage != "active":
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. Current state is "
                f"{run.info.lifecycle_stage}."
            )
        self.know_run(run_id)


# Sessions by tracking URI. A session holds its store, so a store the cache has replaced
# (after ``reset_stores``) cannot be mistaken for a new one at the same address.
_sessions: dict[str, StoreSession] = {}
_lock = threading.Lock()


def session_for(tracking_uri: str, store: TrackingStore) -> StoreSession:
    """The session of ``store`` (the store cache's for ``tracking_uri``), made on first use."""
    session = _sessions.get(tracking_uri)
    if session is not None and session.store is store:
        return session
    with _lock:
        session = _sessions.get(tracking_uri)
        if session is None or session.store is not store:
            session = _sessions[tracking_uri] = StoreSession(store)
        return session
