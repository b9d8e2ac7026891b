"""Where tracking data goes: ``set_tracking_uri`` > ``MLTRAIL_TRACKING_URI`` >
``MLFLOW_TRACKING_URI`` > an embedded SQLite file in the working folder."""

from __future__ import annotations

import contextlib
import os
import sys

from mltrail.exceptions import InvalidParameter
from mltrail.store.locations import DEFAULT_ARTIFACTS_DIR, DEFAULT_DB_NAME, default_artifact_root
from mltrail.tracking.state import Setting

# What set_tracking_uri set: for the whole process, and kept by a thread or task that set it
# itself (see ``state.py``).
_explicit_uri = Setting[str | None]("mltrail_tracking_uri", None)
_announced: set[str] = set()

_KNOWN_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql", "http", "https", "file")


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Send tracking data to ``uri`` (a database URI, a server's http(s) address, or a path
    to a folder that holds ``mltrail.db``)."""
    _explicit_uri.set(None if uri is None else normalize_tracking_uri(os.fspath(uri)))


def explicit_tracking_uri() -> str | None:
    """The URI ``set_tracking_uri`` set, if any (not the environment's)."""
    return _explicit_uri.get()


def reset_tracking_uri() -> None:
    """Forget what ``set_tracking_uri`` set, everywhere (for tests)."""
    _explicit_uri.reset()


def get_tracking_uri() -> str:
    explicit = _explicit_uri.get()
    if explicit:
        return explicit
    for var in ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        value = os.environ.get(var)
        if value:
            return normalize_tracking_uri(value)
    return "sqlite:///" + os.path.abspath(DEFAULT_DB_NAME)


def is_tracking_uri_set() -> bool:
    return bool(
        _explicit_uri.get()
        or os.environ.get("MLTRAIL_TRACKING_URI")
        or os.environ.get("MLFLOW_TRACKING_URI")
    )


def normalize_tracking_uri(uri: str) -> str:
    """Check a tracking URI; turn plain folders and ``file:`` URIs into their SQLite file."""
    uri = uri.strip()
    if not uri:
        raise InvalidParameter("The tracking URI is empty.")
    if "://" not in uri and not uri.startswith("file:"):
        if ":" in uri and len(uri.split(":", 1)[0]) > 1:
            raise InvalidParameter(
                f"Malformed tracking URI {uri!r}: expected sqlite:///path.db, "
                "postgresql://..., http(s)://host:port or a local folder."
            )
        path = os.path.abspath(uri)
        if path.endswith(".db"):
            return "sqlite:///" + path
        # A folder is made on first use, as MLflow's file store does: Ultralytics points
        # tracking at runs/mlflow before anything has created it.
        # (If it cannot be made, the store says clearly why when it opens the database.)
        with contextlib.suppress(OSError):
            os.makedirs(path, exist_ok=True)
        return "sqlite:///" + os.path.join(path, DEFAULT_DB_NAME)
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in _KNOWN_SCHEMES:
        raise InvalidParameter(
            f"Unsupported tracking URI scheme {scheme!r} in {uri!r}; use one of "
            "sqlite, postgresql, mysql, http, https or a local folder."
        )
    if scheme == "file":
        from mltrail.store.artifact.local import local_path_from_uri

        return normalize_tracking_uri(local_path_from_uri(uri))
    if scheme in ("http", "https"):
        from urllib.parse import urlparse

        parsed = urlparse(uri)
        if not parsed.hostname:
            raise InvalidParameter(f"Malformed tracking URI {uri!r}: it names no host.")
        try:
            parsed.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise InvalidParameter(f"Malformed tracking URI {uri!r}: bad port.") from None
        return uri.rstrip("/")
    return uri


def sqlite_path(tracking_uri: str) -> str | None:
    """The file of a SQLite tracking URI (None for other stores and in-memory ones)."""
    if not tracking_uri.startswith("sqlite:///") or tracking_uri == "sqlite:///:memory:":
        return None
    return tracking_uri[len("sqlite:///") :].split("?", 1)[0]


def is_new_sqlite_store(tracking_uri: str) -> bool:
    """Whether opening ``tracking_uri`` would create its SQLite file."""
    path = sqlite_path(tracking_uri)
    return path is not None and not os.path.exists(path)


def announce_once(tracking_uri: str, artifact_root: str) -> None:
    """Tell the user once where an embedded store keeps their data."""
    if tracking_uri in _announced or is_tracking_uri_set():
        return
    _announced.add(tracking_uri)
    if os.environ.get("MLTRAIL_QUIET"):
        return
    sys.stderr.write(
        f"mltrail: tracking to {tracking_uri} (artifacts in {artifact_root}); "
        "see it with `mltrail ui`\n"
    )


__all__ = [
    "DEFAULT_ARTIFACTS_DIR",
    "DEFAULT_DB_NAME",
    "announce_once",
    "default_artifact_root",
    "get_tracking_uri",
    "is_new_sqlite_store",
    "is_tracking_uri_set",
    "normalize_tracking_uri",
    "set_tracking_uri",
    "sqlite_path",
]
