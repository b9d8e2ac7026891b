"""The registry's routes come from ``mltrail.protocol.registry_routes``: the server documents
each by the request model the table names, and ``RestRegistryStore`` reaches every registry
route a store needs through the table (no path written by hand)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from mltrail.protocol import Route, find_route, registry_routes
from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings


def test_openapi_documents_the_registry_request_models(tmp_path) -> None:
    settings = ServerSettings(f"sqlite:///{tmp_path}/m.db", str(tmp_path / "a"), str(tmp_path))
    doc = create_app(settings).openapi()
    for route in registry_routes.ROUTES:
        op = doc["paths"][route.full_path][route.method.lower()]
        if route.request is None:
            continue
        if route.method == "GET":
            assert op.get("parameters"), route
        else:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert schema["title"] == route.request, route
        assert route.permission is not None, route


def test_rest_registry_store_calls_the_table() -> None:
    source = Path(inspect.getfile(__import__("mltrail.store.rest_registry", fromlist=["x"])))
    text = source.read_text()
    used = set(re.findall(r"routes\.([A-Z_]+)", text))
    names = {n for n, v in vars(registry_routes).items() if isinstance(v, Route)}
    webhooks = {n for n in names if "WEBHOOK" in n}
    # The GET twin of get-latest-versions and the UI's file link are not a store's business.
    assert names - used - webhooks == {"GET_LATEST_VERSIONS_GET", "GET_MODEL_VERSION_ARTIFACT"}
    assert '_call("' not in text


def test_find_registry_routes() -> None:
    alias = find_route("DELETE", "/ajax-api/2.0/mlflow/registered-models/alias")
    assert alias is registry_routes.DELETE_ALIAS
    assert find_route("POST", "/api/2.0/mlflow/webhooks/abc/test") is registry_routes.TEST_WEBHOOK
    assert find_route("POST", "/api/2.0/mlflow/registered-models/search") is None
