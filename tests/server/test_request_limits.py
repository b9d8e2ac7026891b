"""Bounds a hostile or broken client cannot get past: multipart upload paths, the JSON body
limit (sized to the largest valid log-batch), filter and order-by limits checked before any
SQL, and the security headers on every kind of answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, assert_error, make_settings, serve
from sqlalchemy import event

from mltrail.search.parser import MAX_FILTER_COMPARISONS, MAX_FILTER_LENGTH, MAX_ORDER_BY_TERMS
from mltrail.utils import validation as limits

JSON = {"Content-Type": "application/json"}
MPU = "/api/2.0/mlflow-artifacts/mpu"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("limits")
    with serve(make_settings(f"sqlite:///{folder / 'db.sqlite'}", folder)) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api, timeout=60) as client:
        yield client


@pytest.fixture
def run_id(api: httpx.Client) -> str:
    exp = api.post("/experiments/create", json={"name": f"l-{uuid.uuid4().hex[:8]}"}).json()
    run = api.post("/runs/create", json={"experiment_id": exp["experiment_id"]}).json()
    return str(run["run"]["info"]["run_id"])


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


# -- multipart uploads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "client_path",
    [
        "../../x.bin",
        "a/../../x.bin",
        "/home/me/../../etc/x.bin",
        "%2e%2e/x.bin",
        "%252e%252e/x.bin",
        "..%2fx.bin",
        "C:\\Users\\..\\..\\x.bin",
        "x\x00.bin",
    ],
)
def test_multipart_body_path_is_checked_like_other_paths(
    server: LiveServer, client_path: str
) -> None:
    destination = Path(server.settings.artifacts_destination)
    before = _files(destination)
    answer = httpx.post(
        server.url + MPU + "/create/exp/run/artifacts",
        json={"path": client_path, "num_parts": 1},
    )
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert _files(destination) == before


@pytest.mark.parametrize("client_path", ["w.bin", "/home/me/w.bin", "C:\\Users\\me\\w.bin"])
def test_multipart_accepts_what_mlflow_clients_send(server: LiveServer, client_path: str) -> None:
    """MLflow 3.18 sends the file name; older clients sent their whole local path."""
    base = server.url + MPU
    made = httpx.post(base + "/create/mp/a", json={"path": client_path, "num_parts": 1})
    assert made.status_code == 200, made.text
    upload_id = made.json()["upload_id"]
    part = httpx.put(made.json()["credentials"][0]["url"], content=b"data")
    assert part.status_code == 200
    done = httpx.post(
        base + "/complete/mp/a",
        json={
            "path": client_path,
            "upload_id": upload_id,
            "parts": [{"part_number": 1, "etag": part.headers["etag"]}],
        },
    )
    assert done.status_code == 200, done.text
    stored = Path(server.settings.artifacts_destination) / "mp" / "a" / "w.bin"
    assert stored.read_bytes() == b"data"


def test_multipart_json_over_the_body_limit_is_413(server: LiveServer) -> None:
    cap = server.settings.max_body_bytes
    answer = httpx.post(server.url + MPU + "/complete/mp/a", content=b" " * (cap + 1), headers=JSON)
    assert_error(answer, 413, "INVALID_PARAMETER_VALUE", "smaller requests")


# -- the body limit -----------------------------------------------------------------------------


def _largest_valid_batch(run_id: str) -> dict[str, object]:
    """log-batch at every limit: most items, longest keys and values (ASCII text)."""

    def key(prefix: str, i: int) -> str:
        return (f"{prefix}{i}-" + "k" * limits.MAX_ENTITY_KEY_LENGTH)[
            : limits.MAX_ENTITY_KEY_LENGTH
        ]

    metrics = [
        {"key": key("m", i), "value": 1.0e-300 / 3, "timestamp": 2**62, "step": 2**62}
        for i in range(limits.MAX_BATCH_METRICS - limits.MAX_BATCH_PARAMS - limits.MAX_BATCH_TAGS)
    ]
    params = [
        {"key": key("p", i), "value": "v" * limits.MAX_PARAM_VAL_LENGTH}
        for i in range(limits.MAX_BATCH_PARAMS)
    ]
    tags = [
        {"key": key("t", i), "value": "v" * limits.MAX_TAG_VAL_LENGTH}
        for i in range(limits.MAX_BATCH_TAGS)
    ]
    return {"run_id": run_id, "metrics": metrics, "params": params, "tags": tags}


def test_the_largest_valid_log_batch_fits_under_the_limit(
    api: httpx.Client, server: LiveServer, run_id: str
) -> None:
    import orjson

    body = orjson.dumps(_largest_valid_batch(run_id))
    assert len(body) < server.settings.max_body_bytes
    answer = api.post("/runs/log-batch", content=body, headers=JSON)
    assert answer.status_code == 200, answer.text[:300]
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert len(run["data"]["params"]) == limits.MAX_BATCH_PARAMS


def test_five_megabytes_is_413_and_nothing_is_logged(api: httpx.Client, run_id: str) -> None:
    import orjson

    batch = {"run_id": run_id, "params": [{"key": "p", "value": "v" * (5 * 1000 * 1000)}]}
    answer = api.post("/runs/log-batch", content=orjson.dumps(batch), headers=JSON)
    assert_error(answer, 413, "INVALID_PARAMETER_VALUE", "smaller requests")
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert "params" not in run["data"]


def test_the_body_limit_is_configurable(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path, max_body_bytes=2048)
    with serve(settings) as live, httpx.Client(base_url=live.api) as api:
        small = api.post("/experiments/create", json={"name": "fits"})
        assert small.status_code == 200
        big = api.post(
            "/experiments/create",
            json={"name": "x" * 400, "tags": [{"key": "k", "value": "v" * 3000}]},
        )
        assert_error(big, 413, "INVALID_PARAMETER_VALUE", "2 KiB")
        names = api.post("/experiments/search", json={}).json()["experiments"]
        assert {e["name"] for e in names} == {"Default", "fits"}


def test_the_body_limit_reaches_workers_through_the_environment() -> None:
    from mltrail.server.settings import ServerSettings

    settings = ServerSettings("sqlite://", "x", "y", max_body_bytes=12345)
    env = settings.to_env()
    assert env["MLTRAIL_MAX_BODY_BYTES"] == "12345"


# -- filters and order-by: refused before any SQL ------------------------------------------------


@pytest.fixture
def statements(server: LiveServer) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = server.store.engine  # type: ignore[attr-defined]

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _comparisons(n: int) -> str:
    return " and ".join(f"params.p{i} = '1'" for i in range(n))


@pytest.mark.parametrize(
    ("filter_string", "words"),
    [
        ("params.a = '" + "x" * 100_000 + "'", ("100,013 characters",)),
        ("metrics.m > 1 and " * 6000 + "metrics.m > 1", ("characters",)),
        (_comparisons(MAX_FILTER_COMPARISONS + 1), ("comparisons",)),
        ("(" * 100 + "params.a = '1'" + ")" * 100, ("nesting",)),
        ("not " * 100 + "params.a = '1'", ("nesting",)),
    ],
)
def test_long_or_deep_filters_are_400_before_any_sql(
    api: httpx.Client, run_id: str, statements: list[str], filter_string: str, words: tuple
) -> None:
    exp_id = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["info"]["experiment_id"]
    statements.clear()
    answer = api.post("/runs/search", json={"experiment_ids": [exp_id], "filter": filter_string})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", *words)
    assert statements == []
    for route, body in (
        ("/experiments/search", {"filter": filter_string}),
        ("/logged-models/search", {"experiment_ids": [exp_id], "filter": filter_string}),
    ):
        assert_error(api.post(route, json=body), 400, "INVALID_PARAMETER_VALUE")
    assert statements == []


def test_filters_at_the_limits_still_work(api: httpx.Client, run_id: str) -> None:
    exp_id = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["info"]["experiment_id"]
    at_limit = _comparisons(MAX_FILTER_COMPARISONS)
    answer = api.post("/runs/search", json={"experiment_ids": [exp_id], "filter": at_limit})
    assert answer.status_code == 200, answer.text[:200]
    ids = ",".join(f"'{uuid.uuid4().hex}'" for _ in range(1000)) + f",'{run_id}'"
    in_list = f"attributes.run_id IN ({ids})"
    assert len(in_list) < MAX_FILTER_LENGTH
    found = api.post("/runs/search", json={"experiment_ids": [exp_id], "filter": in_list})
    assert [r["info"]["run_id"] for r in found.json()["runs"]] == [run_id]


def test_too_many_or_too_long_order_by_items(
    api: httpx.Client, run_id: str, statements: list[str]
) -> None:
    exp_id = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["info"]["experiment_id"]
    statements.clear()
    many = [f"params.p{i}" for i in range(MAX_ORDER_BY_TERMS + 1)]
    answer = api.post("/runs/search", json={"experiment_ids": [exp_id], "order_by": many})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "order_by")
    long = ["params.`" + "p" * 5000 + "`"]
    answer = api.post("/runs/search", json={"experiment_ids": [exp_id], "order_by": long})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "order_by")
    assert statements == []
    fine = many[:MAX_ORDER_BY_TERMS]
    ok = api.post("/runs/search", json={"experiment_ids": [exp_id], "order_by": fine})
    assert ok.status_code == 200, ok.text[:200]


# -- headers -------------------------------------------------------------------------------------


def test_security_headers_on_api_ui_and_user_files(server: LiveServer, run_id: str) -> None:
    api_answer = httpx.get(server.api + "/runs/get", params={"run_id": run_id})
    error_answer = httpx.get(server.api + "/runs/get", params={"run_id": "nope"})
    page = httpx.get(server.url + "/", headers={"Accept": "text/html"})
    for answer in (api_answer, error_answer, page):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert "default-src" in page.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]

    proxy = server.url + "/api/2.0/mlflow-artifacts/artifacts/h/page.html"
    assert httpx.put(proxy, content=b"<script>alert(1)</script>").status_code == 200
    user_file = httpx.get(proxy)
    assert user_file.headers["content-disposition"].startswith("attachment")
    assert user_file.headers["content-security-policy"] == "sandbox"
    assert user_file.headers["x-content-type-options"] == "nosniff"
