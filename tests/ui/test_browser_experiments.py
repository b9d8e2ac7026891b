"""The experiments list in a real browser: counts, create, search, rename, delete, restore."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from ui_data import demo_experiment, unique
from ui_helpers import screenshot

pytestmark = pytest.mark.browser


def test_list_shows_run_counts_and_links(page, live_server):
    exp, _ = demo_experiment(live_server.store, unique("vision"))
    page.goto(live_server.url + "/")
    row = page.locator(f"tr[data-experiment-id='{exp}']")
    expect(row.locator("td.num")).to_have_text("10")
    expect(row.locator("time").first).to_have_attribute("data-ms", re.compile(r"^\d+$"))
    screenshot(page, "experiments")
    row.locator("a.exp-link").click()
    expect(page).to_have_url(f"{live_server.url}/experiments/{exp}")


def test_create_search_rename_delete_restore(page, live_server):
    name = unique("created")
    page.goto(live_server.url + "/")
    page.fill("#new-experiment-name", name)
    page.keyboard.press("Enter")
    page.wait_for_url("**/experiments/*")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("section.empty")).to_contain_text("No runs yet")
    screenshot(page, "experiment-empty")

    page.goto(f"{live_server.url}/?q={name}")
    rows = page.locator("table.experiments tbody tr")
    expect(rows).to_have_count(1)
    page.click("button[data-action=rename]")
    page.fill("td.name input", name + "-renamed")
    page.keyboard.press("Enter")
    expect(page.locator("td.name a")).to_have_text(name + "-renamed")
    assert live_server.store.get_experiment_by_name(name + "-renamed") is not None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=delete]")
    expect(page.locator("section.empty")).to_contain_text("No experiment matches")

    page.goto(f"{live_server.url}/?view=deleted&q={name}")
    expect(page.locator("tr.deleted")).to_have_count(1)
    page.click("button[data-action=restore]")
    expect(page.locator("tr.deleted")).to_have_count(0)
    page.goto(f"{live_server.url}/?q={name}")
    expect(rows).to_have_count(1)


def test_duplicate_name_shows_an_error(page, live_server):
    name = unique("dup")
    live_server.store.create_experiment(name)
    page.goto(live_server.url + "/")
    page.fill("#new-experiment-name", name)
    page.keyboard.press("Enter")
    expect(page.locator("#toast")).to_contain_text("already exists")


def test_open_two_experiments_together(page, live_server):
    first, _ = demo_experiment(live_server.store, unique("a"))
    second, _ = demo_experiment(live_server.store, unique("b"))
    page.goto(live_server.url + "/")
    page.check(f"tr[data-experiment-id='{first}'] input.row-select")
    page.check(f"tr[data-experiment-id='{second}'] input.row-select")
    page.click("#open-selected")
    page.wait_for_url("**/experiments/*,*")
    expect(page.locator("#runs-table tbody tr:visible")).to_have_count(14)
