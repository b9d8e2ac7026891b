"""The web UI behind ``--static-prefix /mlflow``, in a real browser: the pages' scripts call
the API, follow links and navigate under the prefix (creating an experiment, opening a run's
artifacts and their preview)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from ui_helpers import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def prefixed(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        default_artifact_root="mlflow-artifacts:/",
        artifacts_destination=str(tmp_path / "destination"),
        static_prefix="/mlflow",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_pages_and_their_scripts_work_under_the_prefix(page: Page, prefixed: str) -> None:
    base = prefixed + "/mlflow"
    api = base + "/api/2.0/mlflow"
    exp = httpx.post(api + "/experiments/create", json={"name": "ingress"}).json()
    run = httpx.post(api + "/runs/create", json={"experiment_id": exp["experiment_id"]}).json()
    info = run["run"]["info"]
    stored = info["artifact_uri"].removeprefix("mlflow-artifacts:/").strip("/")
    put = httpx.put(
        f"{base}/api/2.0/mlflow-artifacts/artifacts/{stored}/notes.txt", content=b"hello prefix"
    )
    assert put.status_code == 200, put.text

    page.goto(base + "/")
    page.wait_for_load_state("networkidle")  # the page's module script is in
    page.fill("#new-experiment-name", "made-in-the-browser")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/experiments/*")
    expect(page.locator("h1")).to_have_text("made-in-the-browser")

    page.goto(f"{base}/runs/{info['run_id']}#artifacts")
    page.click("#artifact-tree button[data-path='notes.txt']")
    preview = page.locator("#artifact-preview")
    expect(preview.locator("pre")).to_contain_text("hello prefix")
    href = preview.locator("a", has_text="Download").get_attribute("href")
    assert href is not None and href.startswith("/mlflow/ui/artifacts/")
    page.locator("nav.mainnav a", has_text="Experiments").click()
    expect(page).to_have_url(base + "/")
