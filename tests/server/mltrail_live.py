"""A real mltrail server on a free port, in a thread of the test process, and fresh databases.

Shared by ``tests/server`` and ``tests/compat`` (which loads this file by path).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.store.base import TrackingStore


@dataclass
class LiveServer:
    url: str
    settings: ServerSettings
    store: TrackingStore
    app: Any

    @property
    def api(self) -> str:
        return self.url + "/api/2.0/mlflow"


def make_settings(db_uri: str, folder: Path, **overrides: Any) -> ServerSettings:
    values: dict[str, Any] = {
        "backend_store_uri": db_uri,
        "default_artifact_root": "mlflow-artifacts:/",
        "artifacts_destination": str(folder / "artifacts"),
    }
    values.update(overrides)
    return ServerSettings(**values)


@contextlib.contextmanager
def serve(settings: ServerSettings, lifespan: str = "off") -> Iterator[LiveServer]:
    """Run ``create_app(settings)`` under uvicorn until the block ends (``lifespan="on"``
    runs the app's background tasks, such as the run-lease checks)."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app.state.store, app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@contextlib.contextmanager
def fresh_pg_database(admin_uri: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (``admin_uri`` names any db)."""
    import psycopg

    name = f"mltrail_srv_{uuid.uuid4().hex[:12]}"
    admin = admin_uri.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_uri.rsplit("/", 1)[0] + "/" + name
    finally:
        from mltrail.store.sql.engine import dispose_engines

        dispose_engines()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_error(answer: httpx.Response, status: int, code: str, *words: str) -> dict:
    """The answer is MLflow's error body with this status and code, mentioning ``words``."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    for word in words:
        assert word in body["message"], body["message"]
    return body
