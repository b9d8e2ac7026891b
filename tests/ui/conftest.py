"""A live mltrail server (uvicorn in a thread, free port, fresh SQLite) and a real headless
Chromium driven by Playwright, for end-to-end tests of the web UI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from ui_helpers import CHROMIUM, CHROMIUM_ARGS, LiveServer, start_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    live, server, thread = start_server(tmp_path_factory.mktemp("ui-server"))
    yield live
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)


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
