"""The runs table in a real browser: sort, filter (and its errors), nesting, selection,
bulk actions, columns, grouping, paging, themes and narrow screens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from ui_data import demo_experiment, make_run, unique
from ui_helpers import screenshot

pytestmark = pytest.mark.browser
TOP_ROWS = "#runs-table tbody tr:visible"


@pytest.fixture
def demo(live_server):
    exp, ids = demo_experiment(live_server.store, unique("sweep"))
    return live_server, exp, ids


def column_values(page, column_id: str) -> list[str]:
    index = page.evaluate(
        """(id) => [...document.querySelectorAll('#runs-table thead th')]
                 .findIndex((th) => th.dataset.col === id)""",
        column_id,
    )
    return page.locator(f"{TOP_ROWS} td:nth-child({index + 1})").all_inner_texts()


def apply_filter(page, text: str) -> None:
    page.fill("#run-filter", text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_sort_by_clicking_headers(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    expect(page.locator(TOP_ROWS)).to_have_count(7)  # 6 runs + 1 parent, children folded
    screenshot(page, "runs")
    page.click("th[data-col='metrics.loss'] a")
    expect(page).to_have_url(re.compile(r"sort=metrics.loss&dir=desc"))
    page.click("th[data-col='metrics.loss'] a")
    expect(page).to_have_url(re.compile(r"sort=metrics.loss&dir=asc"))
    expect(page.locator("th[data-col='metrics.loss']")).to_have_attribute("aria-sort", "ascending")
    values = [float(v) for v in column_values(page, "metrics.loss") if v.strip()]
    assert len(values) == 9 and values == sorted(values)
    page.click("th[data-col='name'] a")
    page.wait_for_url(re.compile(r"sort=name"))
    names = page.locator(f"{TOP_ROWS} td.name a").all_inner_texts()
    assert names == sorted(names, reverse=True)


def test_filter_with_or_not_and_parentheses(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    page.fill(
        "#run-filter", "(params.optimizer = 'adam' AND params.seed != '2') OR tags.team = 'nlp'"
    )
    page.keyboard.press("Enter")
    expect(page.locator(TOP_ROWS)).to_have_count(4)
    assert "filter=" in page.url
    apply_filter(page, "min(metrics.loss) < 0.02 AND NOT params.optimizer = 'adam'")
    names = page.locator(f"{TOP_ROWS} td.name a").all_inner_texts()
    assert names and all(n.startswith(("sgd", "child")) for n in names)
    apply_filter(page, "metrics.loss > 100")
    expect(page.locator("section.empty")).to_contain_text("No run matches this filter")


def test_filter_error_points_at_the_position(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    apply_filter(page, "metrics.loss < 0.5 AND AND params.lr = '1'")
    alert = page.locator("#filter-error")
    expect(alert).to_be_visible()
    expect(alert.locator("mark")).to_have_text("A")
    expect(page.locator("#run-filter")).to_have_attribute("aria-invalid", "true")
    caret = page.evaluate("document.getElementById('run-filter').selectionStart")
    assert caret == 23
    screenshot(page, "runs-filter-error")


def test_nested_runs_open_and_close(page, demo):
    live, exp, ids = demo
    page.goto(f"{live.url}/experiments/{exp}")
    children = page.locator(f"tr[data-parent='{ids['parent']}']")
    expect(children).to_have_count(3)
    expect(children.first).to_be_hidden()
    twisty = page.locator(f"tr[data-run-id='{ids['parent']}'] .twisty")
    twisty.focus()
    page.keyboard.press("Enter")
    expect(children.first).to_be_visible()
    expect(twisty).to_have_attribute("aria-expanded", "true")
    twisty.click()
    expect(children.first).to_be_hidden()


def test_select_and_compare(page, demo):
    live, exp, ids = demo
    page.goto(f"{live.url}/experiments/{exp}")
    compare = page.locator("[data-bulk=compare]")
    expect(compare).to_be_disabled()
    page.check(f"tr[data-run-id='{ids['adam-0']}'] input.row-select")
    page.check(f"tr[data-run-id='{ids['sgd-1']}'] input.row-select")
    expect(page.locator("#selection-count")).to_have_text("2 runs selected")
    compare.click()
    page.wait_for_url("**/compare?runs=*")
    expect(page.locator("h1")).to_have_text("Comparing 2 runs")


def test_bulk_tag_delete_and_restore(page, demo):
    live, exp, ids = demo
    page.goto(f"{live.url}/experiments/{exp}")
    for key in ("adam-0", "adam-1"):
        page.check(f"tr[data-run-id='{ids[key]}'] input.row-select")
    page.click("#bulk-tag-menu summary")
    page.fill("#bulk-tag-form input[name=key]", "reviewed")
    page.fill("#bulk-tag-form input[name=value]", "yes")
    with page.expect_navigation():  # the table reloads to show the new tag
        page.click("#bulk-tag-form button[type=submit]")
    assert live.store.get_run(ids["adam-1"]).data.tags["reviewed"] == "yes"

    page.goto(f"{live.url}/experiments/{exp}")
    page.check(f"tr[data-run-id='{ids['adam-0']}'] input.row-select")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-bulk=delete]")
    expect(page.locator(TOP_ROWS)).to_have_count(6)
    page.select_option("#run-view", "deleted")
    expect(page.locator(TOP_ROWS)).to_have_count(1)
    page.check(f"tr[data-run-id='{ids['adam-0']}'] input.row-select")
    page.click("[data-bulk=restore]")
    expect(page.locator("section.empty")).to_contain_text("No deleted runs")
    assert live.store.get_run(ids["adam-0"]).info.lifecycle_stage == "active"


def test_choose_reorder_and_pin_columns(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    page.click("#column-menu summary")
    page.fill(".column-search", "team")
    page.check(".available-columns input[value='tags.team']")
    loss = page.locator("#chosen-columns li[data-col='metrics.loss']")
    loss.locator("input[name=pin]").check()
    loss.locator("button[data-move='-1']").click()  # loss before accuracy
    page.uncheck("#chosen-columns input[name=col][value='params.epochs']")
    page.click(".column-chooser button[type=submit]")
    expect(page.locator("th[data-col='tags.team']")).to_be_visible()
    expect(page.locator("th[data-col='params.epochs']")).to_have_count(0)
    order = page.eval_on_selector_all(
        "#runs-table thead th[data-col]", "t => t.map(x => x.dataset.col)"
    )
    assert order.index("metrics.loss") < order.index("metrics.accuracy")
    pinned = page.locator("th[data-col='metrics.loss']")
    expect(pinned).to_have_class(re.compile("pinned"))
    assert "col=metrics.loss" in page.url and "pin=metrics.loss" in page.url
    page.reload()  # the choice lives in the URL
    expect(page.locator("th[data-col='tags.team']")).to_be_visible()


def test_group_by_a_param(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    page.select_option("#group-by", "params.optimizer")
    heads = page.locator("tr.group-head")
    expect(heads).to_have_count(3)  # adam, sgd, and runs without the param
    expect(heads.nth(0)).to_contain_text("3 runs")
    assert "group=params.optimizer" in page.url
    screenshot(page, "runs-grouped")


def test_paging_keeps_the_state(page, live_server):
    exp = live_server.store.create_experiment(unique("many"))
    for i in range(30):
        make_run(live_server.store, exp, f"run-{i:02d}", metrics={"m": [float(i)]})
    page.goto(f"{live_server.url}/experiments/{exp}?per=25&sort=metrics.m&dir=asc")
    expect(page.locator(TOP_ROWS)).to_have_count(25)
    expect(page.locator(".pager")).to_contain_text("Runs 1–25 of 30")
    page.click("a[rel=next]")
    expect(page.locator(TOP_ROWS)).to_have_count(5)
    expect(page.locator(".pager")).to_contain_text("Runs 26–30 of 30")
    assert "sort=metrics.m" in page.url and "page=2" in page.url
    expect(page.locator(f"{TOP_ROWS} td.name a").first).to_have_text("run-25")


def test_run_names_are_text(page, live_server):
    exp = live_server.store.create_experiment(unique("xss"))
    make_run(live_server.store, exp, "<img src=x onerror=alert(1)><script>alert(2)</script>")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/experiments/{exp}")
    link = page.locator(f"{TOP_ROWS} td.name a")
    expect(link).to_have_text("<img src=x onerror=alert(1)><script>alert(2)</script>")
    assert page.locator("#runs-table img").count() == 0 and not dialogs


def test_keyboard_reaches_the_filter(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "run-filter":
            break
    else:
        pytest.fail("Tab never reached the filter box")
    page.keyboard.type("params.optimizer = 'sgd'")
    page.keyboard.press("Enter")
    expect(page.locator(TOP_ROWS)).to_have_count(3)


def test_dark_theme_and_narrow_screen(page, demo):
    live, exp, _ = demo
    page.goto(f"{live.url}/experiments/{exp}")
    page.click("#theme-toggle")  # auto -> light
    page.click("#theme-toggle")  # light -> dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 21)"
    screenshot(page, "runs-dark")
    page.reload()  # the choice is remembered
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1  # the table scrolls inside its box, the page does not
    screenshot(page, "runs-narrow")
