"""Signing in to the web UI of a server with --auth, in a real browser: the login page, the
session cookie, and a change made from a page (its CSRF token sent by the page's script)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from ui_data import unique
from ui_helpers import ADMIN, submit_login, wait_until_loaded

pytestmark = pytest.mark.browser


def test_sign_in_then_create_an_experiment(page, auth_server: Callable[..., str]) -> None:
    url = auth_server()
    page.goto(url + "/")
    expect(page).to_have_url(url + "/login?next=%2F")
    submit_login(page, ADMIN[0], "not the password")
    expect(page.locator("p.error")).to_contain_text("Wrong user name or password")
    submit_login(page, *ADMIN)
    # The experiments page's script must be in before Enter, or Enter submits the bare form.
    wait_until_loaded(page, url + "/")
    name = unique("signed-in")
    page.fill("#new-experiment-name", name)
    page.keyboard.press("Enter")
    page.wait_for_url("**/experiments/*")
    expect(page.locator("h1")).to_have_text(name)
