"""The compare page and long metric histories in a real browser."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from ui_data import NOW, demo_experiment, make_run, unique
from ui_helpers import screenshot

from mltrail.entities import Metric

pytestmark = pytest.mark.browser


def poll(page, expression: str, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"Still false after {timeout} s: {expression}")
        time.sleep(0.05)


@pytest.fixture
def sweep(live_server):
    exp, ids = demo_experiment(live_server.store, unique("compare"))
    runs = [ids[f"{opt}-{seed}"] for opt in ("adam", "sgd") for seed in range(3)]
    return live_server, runs


def test_diff_table_and_only_differences(page, sweep):
    live, runs = sweep
    page.goto(f"{live.url}/compare?runs={','.join(runs)}")
    expect(page.locator("h1")).to_have_text("Comparing 6 runs")
    epochs = page.locator("#diff-table tr:has(th:text-is('epochs'))")
    optimizer = page.locator("#diff-table tr:has(th:text-is('optimizer'))")
    expect(epochs).to_be_visible()
    page.check("#only-diff")
    expect(epochs).to_be_hidden()
    expect(optimizer).to_be_visible()


def test_overlaid_and_grouped_charts(page, sweep):
    live, runs = sweep
    page.goto(f"{live.url}/compare?runs={','.join(runs)}#charts")
    expect(page.locator(".chart-card .js-plotly-plot")).to_have_count(2, timeout=15_000)
    loss = "document.querySelector(\".chart-card[data-key='loss'] .chart\")"
    poll(page, f"{loss}.data.length === 6")
    page.select_option("#group-by", "params.optimizer")
    poll(page, f"{loss}.data.length === 6 && {loss}.data.filter(t => t.fill).length === 2")
    names = page.evaluate(f"{loss}.data.filter(t => t.name).map(t => t.name)")
    assert names == ["optimizer=adam (3)", "optimizer=sgd (3)"]
    page.select_option("#band", "none")
    poll(page, f"{loss}.data.length === 2")
    page.select_option("#band", "std")
    poll(page, f"{loss}.data.length === 6")
    page.locator("#charts").scroll_into_view_if_needed()
    screenshot(page, "compare-grouped")


def test_parallel_coordinates_and_scatter(page, sweep):
    live, runs = sweep
    page.goto(f"{live.url}/compare?runs={','.join(runs)}")
    expect(page.locator("#parallel-chart svg polyline")).to_have_count(6)
    axes = page.locator("#parallel-chart svg g.axis")
    expect(axes).to_have_count(5)  # lr, optimizer, seed, accuracy, loss (epochs never varies)
    scatter = "document.getElementById('scatter-chart')"
    page.select_option("#scatter-x", "params.lr")
    page.select_option("#scatter-y", "metrics.loss")
    poll(page, f"{scatter}.data && {scatter}.data[0].x.length === 6")
    assert page.evaluate(f"{scatter}.layout.xaxis.title.text") == "params.lr"
    page.locator("#parallel").scroll_into_view_if_needed()
    screenshot(page, "compare-parallel")
    page.goto(f"{live.url}/compare?runs={','.join(runs)}")
    screenshot(page, "compare", full_page=True)


def test_long_history_is_downsampled_and_zoom_refetches(page, live_server):
    store = live_server.store
    exp = store.create_experiment(unique("long"))
    run_id = make_run(store, exp, "long", status="FINISHED")
    n = 200_000
    points = [Metric("loss", 1.0 + (5.0 if i == 123_457 else 0.0), NOW + i, i) for i in range(n)]
    for i in range(0, n, 50_000):
        store.write_batch(run_id, metrics=points[i : i + 50_000])
    page.goto(f"{live_server.url}/runs/{run_id}#charts")
    count = page.locator(".chart-card[data-key='loss'] .point-count")
    expect(count).to_have_text(re.compile(r"^[\d,]+ pts$"), timeout=15_000)
    shown = int(count.inner_text().split()[0].replace(",", ""))
    assert 2 < shown <= 4000
    chart = "document.querySelector(\".chart-card[data-key='loss'] .chart\")"
    assert page.evaluate(f"Math.max(...{chart}.data[0].y)") == 6.0  # the spike survives
    page.evaluate(f"Plotly.relayout({chart}, {{'xaxis.range': [1000, 1100]}})")
    expect(count).to_have_text(re.compile(r"^10[1-3] pts · zoomed$"))
    page.evaluate(f"Plotly.relayout({chart}, {{'xaxis.autorange': true}})")
    expect(count).to_have_text(f"{shown:,} pts")
