"""Where an embedded store keeps its files: the SQLite file's name, and the artifact root
beside it. Plain functions of a URI and the environment, shared by the tracking layer (which
announces them) and the store cache (which opens them)."""

from __future__ import annotations

import os

DEFAULT_DB_NAME = "mltrail.db"
DEFAULT_ARTIFACTS_DIR = "mltrail-artifacts"


def default_artifact_root(tracking_uri: str) -> str:
    """Artifacts of a database store live beside a SQLite file, or in the working folder
    (``MLTRAIL_ARTIFACT_ROOT`` overrides both)."""
    configured = os.environ.get("MLTRAIL_ARTIFACT_ROOT")
    if configured:
        return configured
    if tracking_uri.startswith("sqlite:///") and tracking_uri != "sqlite:///:memory:":
        db_path = tracking_uri[len("sqlite:///") :]
        return os.path.join(os.path.dirname(os.path.abspath(db_path)), DEFAULT_ARTIFACTS_DIR)
    return os.path.abspath(DEFAULT_ARTIFACTS_DIR)
