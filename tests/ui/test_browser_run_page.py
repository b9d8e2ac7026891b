"""The run page in a real browser: overview, description, tags, charts, live refresh, and
the artifact browser with every kind of preview."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from ui_data import demo_experiment, make_run, unique, write_artifacts
from ui_helpers import screenshot

from mltrail.entities import Metric

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server):
    exp, ids = demo_experiment(live_server.store, unique("runpage"))
    return live_server, exp, ids


def poll(page, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JS expression is true. (``wait_for_function`` compiles its predicate with
    eval, which the pages' Content-Security-Policy rightly forbids.)"""
    deadline = time.time() + timeout
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"Still false after {timeout} s: {expression}")
        time.sleep(0.05)


def wait_for_charts(page, count: int) -> None:
    expect(page.locator(".chart-card .js-plotly-plot")).to_have_count(count, timeout=15_000)


def test_overview_params_metrics_and_family(page, demo):
    live, exp, ids = demo
    page.goto(f"{live.url}/runs/{ids['child-1']}")
    expect(page.locator("h1")).to_have_text("child-1")
    expect(page.locator(".facts")).to_contain_text("Parent run")
    page.click(".facts a[href*='/runs/']")
    expect(page.locator("h1")).to_have_text("sweep-parent")
    expect(page.locator("ul.children li")).to_have_count(3)
    page.goto(f"{live.url}/runs/{ids['adam-0']}")
    expect(page.locator("#params-table")).to_contain_text("optimizer")
    expect(page.locator("#metrics-table tr[data-metric='loss'] .step")).to_have_text("59")
    wait_for_charts(page, 2)
    screenshot(page, "run", full_page=True)


def test_description_is_markdown_and_stays_text(page, demo):
    live, _, ids = demo
    page.goto(f"{live.url}/runs/{ids['adam-1']}")
    page.click("#edit-note")
    page.fill("#note-text", "## Notes\n**bold** <script>window.hacked=1</script> <img src=x>")
    page.click("#note-form button[type=submit]")
    note = page.locator("#note-view")
    expect(note.locator("h2")).to_have_text("Notes")
    expect(note.locator("strong")).to_have_text("bold")
    expect(note).to_contain_text("<script>window.hacked=1</script>")
    assert note.locator("script, img").count() == 0
    assert page.evaluate("window.hacked") is None
    page.reload()
    expect(page.locator("#note-view strong")).to_have_text("bold")


def test_tags_can_be_set_edited_and_deleted(page, demo):
    live, _, ids = demo
    page.goto(f"{live.url}/runs/{ids['sgd-0']}")
    page.fill("#tag-key", "stage")
    page.fill("#tag-value", "<b>prod</b>")
    page.click("#tag-form button[type=submit]")
    row = page.locator("#tags-table tr[data-key='stage']")
    expect(row).to_contain_text("<b>prod</b>")
    row.locator("[data-tag-edit]").click()
    page.fill("#tag-value", "staging")
    page.keyboard.press("Enter")
    expect(row).to_contain_text("staging")
    assert live.store.get_run(ids["sgd-0"]).data.tags["stage"] == "staging"
    row.locator("[data-tag-delete]").click()
    expect(row).to_have_count(0)
    assert "stage" not in live.store.get_run(ids["sgd-0"]).data.tags


def test_chart_options(page, demo):
    live, _, ids = demo
    page.goto(f"{live.url}/runs/{ids['adam-2']}#charts")
    wait_for_charts(page, 2)
    chart = "document.querySelector(\".chart-card[data-key='loss'] .chart\")"
    assert page.evaluate(f"{chart}.data.length") == 1
    page.locator("label:has(input[value=wall])").click()
    poll(page, f"{chart}.layout.xaxis.type === 'date'")
    page.locator("label:has(input[value=relative])").click()
    poll(page, f"{chart}.layout.xaxis.title.text === 'seconds'")
    page.check("#log-y")
    poll(page, f"{chart}.layout.yaxis.type === 'log'")
    page.eval_on_selector(
        "#smoothing", "s => { s.value = '0.8'; s.dispatchEvent(new Event('input')); }"
    )
    poll(page, f"{chart}.data.length === 2")
    expect(page.locator("#smoothing-value")).to_have_text("0.8")
    page.fill("#chart-filter", "acc")
    expect(page.locator(".chart-card[data-key='loss']")).to_be_hidden()


def test_live_refresh_while_running(page, live_server):
    store = live_server.store
    exp = store.create_experiment(unique("live"))
    run_id = make_run(store, exp, "live-run", metrics={"loss": [1.0] * 10}, status="RUNNING")
    page.goto(f"{live_server.url}/runs/{run_id}#charts")
    expect(page.locator("#live-indicator")).to_be_visible()
    wait_for_charts(page, 1)
    points = page.locator(".chart-card[data-key='loss'] .point-count")
    expect(points).to_have_text(re.compile(r"^10 pts"))
    now = int(time.time() * 1000)
    store.write_batch(run_id, metrics=[Metric("loss", 0.5, now + i, 10 + i) for i in range(15)])
    expect(points).to_have_text(re.compile(r"^25 pts"), timeout=15_000)
    expect(page.locator("#metrics-table tr[data-metric='loss'] .step")).to_have_text("24")
    store.update_run_info(run_id, status="FINISHED", end_time=now + 100)
    expect(page.locator("#run-status .status")).to_contain_text("Finished", timeout=15_000)
    expect(page.locator("#live-indicator")).to_be_hidden()


def test_unknown_run_is_a_404_page(page, live_server):
    answer = page.goto(f"{live_server.url}/runs/0123456789abcdef0123456789abcdef")
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator(".message")).to_contain_text("There is no run with id")
    screenshot(page, "run-404")


def open_artifact(page, path: str) -> None:
    *folders, _name = path.split("/")
    for depth in range(len(folders)):
        folder = "/".join(folders[: depth + 1])
        button = page.locator(f"#artifact-tree button[data-path='{folder}']")
        if button.get_attribute("aria-expanded") != "true":
            button.click()
    page.click(f"#artifact-tree button[data-path='{path}']")
    expect(page.locator("#artifact-preview .preview-head .path")).to_have_text(path)


def test_artifact_previews(page, demo):
    live, _, ids = demo
    run_id = ids["adam-0"]
    write_artifacts(live.store, live.settings, run_id)
    title = None
    page.goto(f"{live.url}/runs/{run_id}#artifacts")
    preview = page.locator("#artifact-preview")
    title = page.title()

    open_artifact(page, "logs/train.log")
    expect(preview.locator("pre")).to_contain_text("epoch 0: loss=1.0000")
    expect(preview.locator("pre")).to_contain_text("<script>x</script>")
    screenshot(page, "artifact-text")

    open_artifact(page, "metrics.json")
    expect(preview.locator("pre")).to_contain_text('"epoch": 7')
    open_artifact(page, "config.yaml")
    expect(preview.locator("pre")).to_contain_text("layers: [64, 32]")

    open_artifact(page, "predictions.csv")
    expect(preview.locator("table th")).to_have_text(["id", "label", "score"])
    expect(preview.locator("table tbody tr")).to_have_count(20)
    screenshot(page, "artifact-csv")
    open_artifact(page, "table.parquet")
    expect(preview).to_contain_text("500 rows of 1,000")

    open_artifact(page, "plot.svg")
    image = preview.locator("img")
    expect(image).to_be_visible()
    poll(page, "document.querySelector('#artifact-preview img').naturalWidth === 120")

    open_artifact(page, "report.html")
    frame = preview.locator("iframe")
    expect(frame).to_have_attribute("sandbox", "")
    inner = page.frame_locator("#artifact-preview iframe").locator("h1")
    expect(inner).to_have_text("Report")  # its script never ran
    assert page.title() == title
    screenshot(page, "artifact-html")

    open_artifact(page, "model/MLmodel")
    expect(preview.locator(".mlmodel")).to_contain_text("python_function")
    expect(preview.locator(".mlmodel table").first).to_contain_text("city")
    screenshot(page, "artifact-mlmodel")

    open_artifact(page, "model/model.pkl")
    expect(preview).to_contain_text("No preview for this kind of file")
    href = preview.locator("a", has_text="Download").get_attribute("href")
    answer = page.request.get(live.url + href)
    assert answer.headers["content-disposition"].startswith("attachment")

    page.click("#artifact-tree button[data-path='model']")  # folders offer a zip
    zip_link = preview.locator("a", has_text="Download folder (zip)")
    zipped = page.request.get(live.url + zip_link.get_attribute("href"))
    assert zipped.headers["content-type"] == "application/zip"


def test_run_without_artifacts_says_so(page, demo):
    live, _, ids = demo
    page.goto(f"{live.url}/runs/{ids['sgd-2']}#artifacts")
    expect(page.locator("#artifact-tree")).to_contain_text("No artifacts logged.")
    expect(page.locator("#download-all")).to_be_hidden()


def test_narrow_screen_and_dark_theme(page, demo):
    live, _, ids = demo
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live.url}/runs/{ids['adam-0']}")
    expect(page.locator(".chart-card .js-plotly-plot")).to_have_count(0)  # drawn when seen
    page.locator(".chart-card").last.scroll_into_view_if_needed()
    wait_for_charts(page, 2)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 17, 21)"
    screenshot(page, "run-narrow-dark", full_page=True)


def test_links_from_mlflow_land_on_the_same_pages(page, demo):
    live, exp, ids = demo
    page.goto(f"{live.url}/#/experiments/{exp}/runs/{ids['adam-0']}")
    page.wait_for_url(f"**/runs/{ids['adam-0']}")
    page.goto(f"{live.url}/#/experiments/{exp}")
    page.wait_for_url(f"**/experiments/{exp}")
