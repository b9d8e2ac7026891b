"""The run page's Console card: the end of a run's console.log (console capture), refreshed
while the run runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from ui_data import make_run, unique

pytestmark = pytest.mark.browser


def _console_file(store, run_id: str) -> Path:
    folder = Path(store.get_run(run_id).info.artifact_uri.removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "console.log"


def test_console_grows_live_and_is_escaped(page, live_server):
    store = live_server.store
    exp = store.create_experiment(unique("console"))
    run_id = make_run(store, exp, "training", status="RUNNING")
    log = _console_file(store, run_id)
    log.write_text("epoch 0 loss=1.50\n<b>not bold</b>\n")

    page.goto(f"{live_server.url}/runs/{run_id}")
    console = page.locator("#console-log")
    expect(page.locator("#console")).to_be_visible()
    expect(console).to_contain_text("epoch 0 loss=1.50")
    expect(console).to_contain_text("<b>not bold</b>")  # shown as text, not markup
    assert page.locator("#console-log b").count() == 0

    with log.open("a") as fh:  # the capture uploads a longer file while the run runs
        fh.write("epoch 1 loss=0.70\n")
    expect(console).to_contain_text("epoch 1 loss=0.70", timeout=12_000)


def test_long_logs_show_their_end_and_runs_without_console_hide_it(page, live_server):
    store = live_server.store
    exp = store.create_experiment(unique("console"))
    run_id = make_run(store, exp, "long")
    lines = [f"line {i:06d} " + "x" * 60 for i in range(3000)]  # ~210 KB
    _console_file(store, run_id).write_text("\n".join(lines) + "\n")
    page.goto(f"{live_server.url}/runs/{run_id}")
    console = page.locator("#console-log")
    expect(console).to_contain_text("line 002999")
    assert "line 000000" not in console.inner_text()
    expect(page.locator("#console-note")).to_have_text("the end of the log")

    quiet = make_run(store, exp, "quiet")
    page.goto(f"{live_server.url}/runs/{quiet}")
    expect(page.locator("#artifact-tree")).to_be_visible()
    page.wait_for_timeout(500)
    expect(page.locator("#console")).to_be_hidden()
