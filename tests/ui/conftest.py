"""A live mltrail server (uvicorn in a thread, free port, fresh SQLite), servers with --auth,
and a real headless Chromium driven by Playwright, for end-to-end tests of the web UI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_servers import ThreadServer, settings_for
from ui_helpers import ADMIN, CHROMIUM, CHROMIUM_ARGS, LiveServer, start_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    live, server, thread = start_server(tmp_path_factory.mktemp("ui-server"))
    yield live
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)


@pytest.fixture
def auth_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Starts a server with --auth on a fresh SQLite store, ``ADMIN`` its administrator and
    any further settings given, and returns its URL; stopped when the test ends."""
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_PASSWORD", ADMIN[1])
    started: list[ThreadServer] = []

    def start(**settings: object) -> str:
        destination = str(tmp_path / "destination")
        server = ThreadServer(settings_for(tmp_path, destination, auth=True, **settings)).start()
        started.append(server)
        return server.url

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):  # CI must run the browser tests, as it runs the databases
            pytest.fail(f"{CHROMIUM} is required in CI but is not installed: apt install chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
