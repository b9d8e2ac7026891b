"""Helpers for the UI tests and the UI benchmarks: a live server in a thread, the Chromium
launch settings, signing in to a server with --auth, and screenshots saved under
``test-artifacts/screenshots``."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = os.environ.get("MLTRAIL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The administrator that the ``auth_server`` fixture's servers are made with.
ADMIN = ("root", "a long admin passphrase")
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


@dataclass
class LiveServer:
    url: str
    store: object
    settings: object
    root: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path) -> tuple[LiveServer, object, threading.Thread]:
    import uvicorn

    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings
    from mltrail.store.sql.store import SqlStore

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'mltrail.db'}",
        default_artifact_root=str(root / "artifacts"),
        artifacts_destination=str(root / "destination"),
    )
    store = SqlStore(settings.backend_store_uri, settings.default_artifact_root)
    app = create_app(settings, tracking_store=store)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("The test server did not start within 20 s.")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", store, settings, root), server, thread


def submit_login(page, username: str, password: str) -> None:
    """Fill in and send the login form of the page shown."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def wait_until_loaded(page, url: str) -> None:
    """Wait until ``url`` is shown and its load event has fired: a page's module scripts run
    before it, so a keypress after this reaches their handlers (a URL check alone passes as
    soon as the navigation commits, and Enter could then submit the bare form)."""
    page.wait_for_url(url, wait_until="load")


def sign_in(page, base_url: str, path: str) -> None:
    """Open ``path`` signed out, sign in as ``ADMIN`` on the login page it leads to, and wait
    until ``path`` is back and ready."""
    page.goto(base_url + path)
    submit_login(page, *ADMIN)
    wait_until_loaded(page, base_url + path)


def screenshot(page, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
