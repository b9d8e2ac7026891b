"""The model registry pages in a real browser: the models list with search, a model page
(versions table, aliases, editable description, alias setting), a version page (source run,
signature, input example, run data beside another version's). Screenshots of each."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from ui_data import unique
from ui_helpers import screenshot

import mltrail

pytestmark = pytest.mark.browser


def _register_two_versions(live_server, name: str) -> tuple[str, str]:
    """Two sklearn models logged with an input example and registered as versions 1 and 2
    of ``name``, through the server's own database; the run ids."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    exp_id = live_server.store.create_experiment(unique("reg-exp"))
    mltrail.set_tracking_uri(live_server.settings.backend_store_uri)
    features = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    run_ids = []
    for c, labels in ((1.0, [0, 0, 1, 1]), (0.5, [1, 1, 0, 0])):
        with mltrail.start_run(experiment_id=exp_id) as run:
            mltrail.log_param("C", c)
            mltrail.log_metric("acc", 0.5 + c / 4)
            mltrail.sklearn.log_model(
                LogisticRegression(C=c).fit(features, labels),
                name="model",
                input_example=features[:2],
                registered_model_name=name,
                serialization_format="cloudpickle",
                pip_requirements=["scikit-learn"],
            )
        run_ids.append(run.info.run_id)
    return run_ids[0], run_ids[1]


def test_models_list_model_page_and_version_page(page, live_server):
    name = unique("churn")
    first_run, second_run = _register_two_versions(live_server, name)
    client = mltrail.TrailClient(live_server.settings.backend_store_uri)
    client.set_registered_model_alias(name, "champion", 1)
    client.set_registered_model_tag(name, "team", "<b>growth</b>")  # shown as text

    # The list, searched by part of the name.
    page.goto(f"{live_server.url}/models?q={name[-6:]}")
    row = page.locator(f"tr[data-model-name='{name}']")
    expect(row).to_have_count(1)
    expect(row.locator("td.num")).to_have_text("Version 2")
    expect(row.locator(".badge.alias")).to_have_text("@champion → v1")
    expect(row.locator(".badge.tag")).to_have_text("team: <b>growth</b>")
    assert row.locator("b").count() == 0  # escaped, not markup
    screenshot(page, "models-list")

    # The model page: versions with aliases and source runs; description; a new alias.
    row.locator("td.name a").click()
    expect(page.locator("h1")).to_have_text(name)
    versions = page.locator("table.model-versions tbody tr")
    expect(versions).to_have_count(2)
    v1 = page.locator("tr[data-version='1']")
    expect(v1.locator(".badge.alias")).to_have_text("@champion")
    expect(v1.locator(f"a[href='/runs/{first_run}']")).to_have_count(1)
    expect(v1).to_contain_text("READY")
    page.click("#edit-description")
    page.fill("#description-text", "Predicts churn <script>alert(1)</script>")
    page.click("#description-form button[type=submit]")
    expect(page.locator("#description-view")).to_have_text(
        "Predicts churn <script>alert(1)</script>"
    )
    assert client.get_registered_model(name).description.startswith("Predicts churn")
    page.fill("#alias-name", "challenger")
    page.select_option("#alias-version", "2")
    page.click("#alias-form button[type=submit]")
    expect(page.locator("tr[data-version='2'] .badge.alias")).to_have_text("@challenger")
    assert client.get_model_version_by_alias(name, "challenger").version == 2
    page.fill("#alias-name", "v3")  # reserved: refused with the store's sentence
    page.click("#alias-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("reserved")
    page.reload()
    screenshot(page, "model-page", full_page=True)
    page.locator("li[data-alias='challenger'] button").click()
    expect(page.locator("li[data-alias='challenger']")).to_have_count(0)
    assert "challenger" not in client.get_registered_model(name).aliases

    # The version page: source run, signature, input example, run data side by side.
    page.goto(f"{live_server.url}/models/{name}/versions/2?compare=1")
    expect(page.locator("#source-run")).to_have_attribute("href", f"/runs/{second_run}")
    # A NumPy input example gives a tensor signature: one entry with its dtype and shape.
    expect(page.locator("table.signature-inputs tbody tr")).to_have_count(1)
    expect(page.locator("table.signature-inputs")).to_contain_text("tensor float64")
    expect(page.locator("#input-example")).to_contain_text("1.0")
    params = page.locator("table.compare-parameters tbody tr")
    expect(params).to_have_count(1)
    expect(params.first).to_contain_text("0.5")
    expect(params.first).to_contain_text("1.0")
    expect(page.locator("table.compare-metrics tr.differs")).to_have_count(1)
    screenshot(page, "model-version", full_page=True)
    page.select_option("#compare-version", "1")
    expect(page).to_have_url(f"{live_server.url}/models/{name}/versions/2?compare=1")


def test_unknown_model_is_a_friendly_404(page, live_server):
    answer = page.goto(f"{live_server.url}/models/no-such-model")
    assert answer is not None and answer.status == 404
    expect(page.locator("main")).to_contain_text("no-such-model")
    answer = page.goto(f"{live_server.url}/models/no-such-model/versions/abc")
    assert answer is not None and answer.status in (400, 404)
