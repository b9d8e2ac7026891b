"""Server information routes, unknown routes and methods, OpenAPI."""

from __future__ import annotations

import httpx
import pytest

from mltrail.version import MLFLOW_API_VERSION, __version__


@pytest.fixture
def root(live_server) -> httpx.Client:
    with httpx.Client(base_url=live_server.url) as client:
        yield client


def test_health_and_version(root: httpx.Client) -> None:
    health = root.get("/health")
    assert health.status_code == 200 and health.text == "OK"
    assert health.headers["content-type"].startswith("text/plain")
    # /version answers the MLflow API version (the mlflow client gates features on it);
    # mltrail's own version is in server-info and on every answer.
    version = root.get("/version")
    assert version.text == MLFLOW_API_VERSION
    assert version.headers["x-mltrail-version"] == __version__
    assert root.get("/nowhere").headers["x-mltrail-version"] == __version__


def test_server_info(root: httpx.Client) -> None:
    for prefix in ("/api", "/ajax-api"):
        info = root.get(f"{prefix}/3.0/mlflow/server-info").json()
        assert info["store_type"] == "SqlStore"
        assert info["multipart_uploads_enabled"] is False
        assert info["multipart_downloads_enabled"] is False
        assert info["mltrail_version"] == __version__
        assert info["mlflow_api_version"] == MLFLOW_API_VERSION


def test_unknown_route_is_404_and_not_json(root: httpx.Client) -> None:
    # The mlflow client reads a non-JSON 404 as ENDPOINT_NOT_FOUND and falls back.
    for path in ("/api/2.0/mlflow/nope", "/api/3.0/mlflow/traces", "/nowhere"):
        answer = root.post(path, json={})
        assert answer.status_code == 404
        assert not answer.headers["content-type"].startswith("application/json")


def test_unknown_page_for_a_browser_is_html(root: httpx.Client) -> None:
    answer = root.get("/no/such/<page>", headers={"accept": "text/html"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<page>" not in answer.text
    api = root.get("/api/2.0/mlflow/nope", headers={"accept": "text/html"})
    assert api.headers["content-type"].startswith("text/plain")


def test_wrong_method_is_405(root: httpx.Client) -> None:
    assert root.get("/api/2.0/mlflow/runs/search").status_code == 405
    assert root.post("/api/2.0/mlflow/runs/get", json={}).status_code == 405
    assert root.delete("/api/2.0/mlflow/experiments/create").status_code == 405


def test_security_headers_on_every_answer(root: httpx.Client) -> None:
    for path in ("/health", "/api/2.0/mlflow/experiments/get?experiment_id=0", "/nope"):
        answer = root.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"


def test_openapi_documents_every_route_with_bodies(root: httpx.Client) -> None:
    doc = root.get("/openapi.json").json()
    paths = doc["paths"]
    prefix = "/api/2.0/mlflow"
    posts = [
        "experiments/create", "experiments/search", "experiments/delete", "experiments/restore",
        "experiments/update", "experiments/set-experiment-tag", "experiments/delete-experiment-tag",
        "runs/create", "runs/update", "runs/delete", "runs/restore", "runs/log-metric",
        "runs/log-parameter", "runs/set-tag", "runs/delete-tag", "runs/log-batch",
        "runs/log-inputs", "runs/search",
    ]  # fmt: skip
    gets = [
        "experiments/get", "experiments/get-by-name", "experiments/search", "runs/get",
        "metrics/get-history", "metrics/get-history-bulk-interval", "artifacts/list",
    ]  # fmt: skip
    for name in posts:
        body = paths[f"{prefix}/{name}"]["post"]["requestBody"]
        assert body["content"]["application/json"]["schema"]["properties"], name
    for name in gets:
        assert paths[f"{prefix}/{name}"]["get"]["parameters"], name
    batch = paths[f"{prefix}/runs/log-batch"]["post"]["requestBody"]["content"]
    metric = batch["application/json"]["schema"]["properties"]["metrics"]["items"]
    assert set(metric["required"]) == {"key", "value", "timestamp"}
    assert not any(p.startswith("/ajax-api/2.0/mlflow/") for p in paths)
