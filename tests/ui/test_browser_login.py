"""Signing in to the web UI of a server with --auth, in a real browser: the login page, the
session cookie, and a change made from a page (its CSRF token sent by the page's script)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from ui_data import unique
from ui_helpers import free_port

pytestmark = pytest.mark.browser

ADMIN = ("root", "a long admin passphrase")


@pytest.fixture
def auth_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import uvicorn

    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings

    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_PASSWORD", ADMIN[1])
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        default_artifact_root="mlflow-artifacts:/",
        artifacts_destination=str(tmp_path / "destination"),
        auth=True,
    )
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sign_in_then_create_an_experiment(page, auth_server: str) -> None:
    page.goto(auth_server + "/")
    expect(page).to_have_url(auth_server + "/login?next=%2F")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_contain_text("Wrong user name or password")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(auth_server + "/")
    name = unique("signed-in")
    page.fill("#new-experiment-name", name)
    page.keyboard.press("Enter")
    page.wait_for_url("**/experiments/*")
    expect(page.locator("h1")).to_have_text(name)
