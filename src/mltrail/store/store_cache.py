"""Pick the tracking store for a URI (one instance per URI and process)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from mltrail.store.base import TrackingStore
from mltrail.store.registry_base import ModelRegistryStore

_stores: dict[tuple[str, str | None], TrackingStore] = {}
_registry_stores: dict[tuple[str, str | None], ModelRegistryStore] = {}
_lock = threading.Lock()
_S = TypeVar("_S")


def get_tracking_store(uri: str, artifact_root: str | None = None) -> TrackingStore:
    return _cached(_stores, uri, artifact_root, _make_store)


def _cached(
    cache: dict[tuple[str, str | None], _S],
    uri: str,
    artifact_root: str | None,
    make: Callable[[str, str | None], _S],
) -> _S:
    """The store cached for (uri, artifact_root), made once even when threads race for it
    (the lock is taken only on a miss, so a hit costs one dict lookup)."""
    key = (uri, artifact_root)
    store = cache.get(key)
    if store is not None:
        return store
    with _lock:
        store = cache.get(key)
        if store is None:
            store = make(uri, artifact_root)
            cache[key] = store
        return store


def _make_store(uri: str, artifact_root: str | None) -> TrackingStore:
    scheme = uri.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        from mltrail.store.rest import RestStore

        return RestStore(uri)
    from mltrail.store.locations import default_artifact_root
    from mltrail.store.sql.store import SqlStore

    return SqlStore(uri, artifact_root or default_artifact_root(uri))


def get_registry_store(uri: str, artifact_root: str | None = None) -> ModelRegistryStore:
    """The model registry for a URI: a server's (http/https) or a SQL database's."""
    return _cached(_registry_stores, uri, artifact_root, _make_registry_store)


def _make_registry_store(uri: str, artifact_root: str | None) -> ModelRegistryStore:
    scheme = uri.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        from mltrail.store.rest_registry import RestRegistryStore

        return RestRegistryStore(uri)
    from mltrail.store.locations import default_artifact_root
    from mltrail.store.sql.registry import SqlRegistryStore

    return SqlRegistryStore(uri, artifact_root or default_artifact_root(uri))


def reset_stores() -> None:
    """Forget cached stores (tests, and after ``set_tracking_uri`` to a new place)."""
    with _lock:
        _stores.clear()
        _registry_stores.clear()
