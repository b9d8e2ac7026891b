"""The route table of ``mltrail.protocol`` is what the app serves: every route the app mounts
is in the table (and nothing else), the REST routes are documented by the request model the
table names, and ``RestStore`` reaches every tracking route through it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from mltrail.protocol import ROUTES, Route, find_route, tracking_routes
from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings

# Routes of the framework itself, not of mltrail.
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect"}


def _served(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, however the routers were included."""
    out: set[tuple[str, str]] = set()

    def walk(routes) -> None:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if contexts is not None:  # an included router (FastAPI >= 0.16x)
                for ctx in contexts():
                    for method in ctx.methods or ():
                        out.add((method, ctx.path))
            elif hasattr(route, "routes") and not hasattr(route, "methods"):
                walk(route.routes)
            elif route.path not in FRAMEWORK:
                for method in getattr(route, "methods", None) or ():
                    if method != "HEAD":
                        out.add((method, route.path))

    walk(app.routes)
    return out


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("routes")
    settings = ServerSettings(f"sqlite:///{root}/m.db", str(root / "a"), str(root / "a"))
    return create_app(settings)


def test_the_app_serves_exactly_the_table(app) -> None:
    table = {(r.method, path) for r in ROUTES for path in r.mounted_paths}
    served = _served(app)
    assert served - table == set(), "served but not in mltrail.protocol's table"
    assert table - served == set(), "in the table but not served"


def test_each_route_appears_once() -> None:
    keys = [(r.method, r.full_path) for r in ROUTES]
    assert len(keys) == len(set(keys))


def test_openapi_documents_the_request_model_the_table_names(app) -> None:
    doc = app.openapi()
    for route in tracking_routes.ROUTES:
        op = doc["paths"][route.full_path.replace(":path}", "}")][route.method.lower()]
        if route.request is None:
            continue
        if route.method == "GET":
            assert op.get("parameters"), route
        else:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert schema["title"] == route.request, route
        # the /ajax-api twin is served but not documented
        assert route.ajax_path not in doc["paths"]


def test_rest_store_calls_every_tracking_route_by_the_table() -> None:
    source = Path(inspect.getfile(__import__("mltrail.store.rest", fromlist=["x"]))).read_text()
    used = set(re.findall(r"routes\.([A-Z_]+)", source))
    # Routes a tracking store never needs: the single-point writes (batches cover them), the
    # GET twin of experiment search, the bulk history, and the logged-model artifact routes
    # (files travel through the artifact repositories).
    not_for_the_store = {
        "LOG_METRIC",
        "LOG_PARAM",
        "SET_TAG",
        "SEARCH_EXPERIMENTS_GET",
        "GET_METRIC_HISTORY_BULK",
        "LIST_ARTIFACTS",
        "RUN_HEARTBEAT",  # sent by store/rest_heartbeats.py, from its own thread
        "LIST_LOGGED_MODEL_ARTIFACTS",
        "GET_LOGGED_MODEL_ARTIFACT",
    }
    names = {n for n, v in vars(tracking_routes).items() if isinstance(v, Route)}
    assert used <= names
    assert names - used == not_for_the_store
    assert "_call(\"" not in source  # no path written by hand


def test_find_route_and_url() -> None:
    route = find_route("DELETE", "/ajax-api/2.0/mlflow/logged-models/m-1/tags/a/b")
    assert route is tracking_routes.DELETE_LOGGED_MODEL_TAG
    assert find_route("POST", "/api/2.0/mlflow/runs/log-batch") is tracking_routes.LOG_BATCH
    assert find_route("GET", "/api/2.0/mlflow/runs/log-batch") is None
    assert find_route("GET", "/nowhere") is None
    url = tracking_routes.DELETE_LOGGED_MODEL_TAG.url(model_id="m-1", tag_key="a b/c")
    assert url == "/api/2.0/mlflow/logged-models/m-1/tags/a%20b/c"
    assert tracking_routes.GET_LOGGED_MODEL.url(model_id="x/y") == (
        "/api/2.0/mlflow/logged-models/x%2Fy"
    )
    with pytest.raises(KeyError, match="model_id"):
        tracking_routes.GET_LOGGED_MODEL.url()
    with pytest.raises(ValueError, match="ajax"):
        Route("GET", "/x", prefix="", ajax=True)


def test_a_table_entry_naming_a_missing_model_fails_at_mount() -> None:
    from fastapi import APIRouter

    from mltrail.server.api.mount import serve

    route = Route("POST", "/runs/nothing", request="NoSuchModelIn")

    async def endpoint() -> None:
        return None

    with pytest.raises(LookupError, match="NoSuchModelIn"):
        serve(APIRouter(), route)(endpoint)


def test_one_codec_for_nan_and_infinities() -> None:
    import json
    import math

    from mltrail.entities import Metric
    from mltrail.protocol.doubles import decode_double, encode_double
    from mltrail.server.api.encode import metric_json
    from mltrail.store.rest_wire import metric_from_json, metric_to_json

    for value in (1.5, -0.0, math.inf, -math.inf, math.nan):
        wire = encode_double(value)
        assert json.loads(json.dumps(wire, allow_nan=False)) == wire
        back = decode_double(wire)
        assert back == value or (math.isnan(back) and math.isnan(value))
        point = Metric("m", value, 1, 2)
        # the server's answer and the client's request spell it alike, and the client reads both
        assert metric_json(point)["value"] == metric_to_json(point)["value"] == wire
        read = metric_from_json(metric_json(point)).value
        assert read == value or (math.isnan(read) and math.isnan(value))
