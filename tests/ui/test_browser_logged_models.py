"""Logged models in the web UI, in a real browser: an experiment's models list (status,
flavors, source run, metrics) and a run's models section (MLmodel summary, signature, input
example, load snippet); names are shown as text, never as markup."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect
from ui_data import unique
from ui_helpers import screenshot

import mltrail
from mltrail.models import infer_signature

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def logged(live_server):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(features, target)
    exp_id = live_server.store.create_experiment(unique("models-ui"))
    mltrail.set_tracking_uri(live_server.settings.backend_store_uri)
    try:
        with mltrail.start_run(experiment_id=exp_id) as run:
            mltrail.log_metric("accuracy", 0.97)
            info = mltrail.sklearn.log_model(
                model,
                "iris_model",
                signature=infer_signature(features, model.predict(features)),
                input_example=features.head(3),
            )
            hostile = mltrail.pyfunc.log_model(name=HOSTILE, python_model=lambda x: x)
    finally:
        from mltrail.tracking import fluent

        fluent._reset_for_tests()
        mltrail.set_tracking_uri(None)
    return live_server, exp_id, run.info.run_id, info, hostile


def test_experiment_models_list_and_run_models_section(page, logged):
    live, exp_id, run_id, info, hostile = logged
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.goto(f"{live.url}/experiments/{exp_id}")
    page.click("#experiment-models")
    rows = page.locator("table.logged-models tbody tr")
    expect(rows).to_have_count(2)
    row = page.locator(f"tr[data-model-id='{info.model_id}']")
    expect(row).to_contain_text("iris_model")
    expect(row).to_contain_text("READY")
    expect(row.locator(".flavor")).to_have_text(["python_function", "sklearn"])
    expect(row).to_contain_text("accuracy=0.97")
    expect(page.locator(f"tr[data-model-id='{hostile.model_id}'] .name")).to_contain_text(HOSTILE)
    screenshot(page, "experiment-models")
    row.locator("a[href*='/runs/']").click()
    expect(page.locator("h1")).to_be_visible()
    card = page.locator(f"article.model[data-model-id='{info.model_id}']")
    expect(card).to_be_visible()
    expect(card.locator("table.sig-inputs")).to_contain_text("sepal length (cm)")
    expect(card.locator("table.sig-inputs")).to_contain_text("double")
    expect(card.locator("table.sig-outputs")).to_contain_text("tensor int64 [-1]")
    expect(card.locator("table.input-example thead th")).to_have_count(4)
    expect(card.locator("table.input-example tbody tr")).to_have_count(3)
    expect(card.locator("pre.load-snippet")).to_contain_text(
        f'mltrail.pyfunc.load_model("models:/{info.model_id}")'
    )
    expect(card.locator("pre.load-snippet")).to_contain_text("mltrail.sklearn.load_model")
    expect(page.locator(f"article.model[data-model-id='{hostile.model_id}'] h3")).to_contain_text(
        HOSTILE
    )
    screenshot(page, "run-models", full_page=True)
    assert alerts == []


def test_models_json_and_search_outputs(logged):
    live, exp_id, run_id, info, hostile = logged
    body = httpx.get(f"{live.url}/ajax-api/ui/experiments/{exp_id}/models").json()
    by_id = {m["model_id"]: m for m in body["models"]}
    assert by_id[info.model_id]["flavors"] == ["python_function", "sklearn"]
    assert by_id[info.model_id]["source_run_id"] == run_id
    missing = httpx.get(f"{live.url}/experiments/999999/models")
    assert missing.status_code == 404
    found = live.store.search_runs([exp_id], None, 1, 10)
    assert {o.model_id for o in found[0].outputs.model_outputs} == {
        info.model_id,
        hostile.model_id,
    }
