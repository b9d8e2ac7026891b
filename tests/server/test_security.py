"""Host allowlist (DNS rebinding), Origin checks on state changes, CORS, settings variants."""

from __future__ import annotations

import httpx
import pytest
from mltrail_live import make_settings, serve

from mltrail.server.security import HostPolicy, OriginPolicy, split_host


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:5000",
        "127.0.0.1:8080",
        "127.0.0.5",
        "[::1]:5000",
        "0.0.0.0:5000",
        "10.1.2.3:5000",
        "192.168.0.7",
        "172.16.0.1",
        "172.31.255.255:80",
        "[fd00::1]:5000",
        "LOCALHOST.",
    ],
)
def test_default_hosts_allowed(host: str) -> None:
    assert HostPolicy().allows(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:5000",
        "10.evil.example",
        "192.168.evil.example",
        "172.32.0.1",
        "8.8.8.8",
        "[fc00::1%evil.example]:5000",
        "localhost.evil.example",
        "",
        None,
    ],
)
def test_default_hosts_refused(host: str | None) -> None:
    assert not HostPolicy().allows(host)


def test_explicit_allowed_hosts() -> None:
    policy = HostPolicy(
        ["mlflow.corp.example", "*.ml.example:5000", "10.0.*", "203.0.113.0/24", "fd00:*"]
        + ["ci.example:*"]
    )
    assert policy.allows("mlflow.corp.example:443")
    assert policy.allows("a.ml.example:5000")
    assert not policy.allows("a.ml.example:6000")
    assert policy.allows("10.0.3.4")
    assert not policy.allows("10.0.evil.example")
    assert policy.allows("203.0.113.9")
    assert policy.allows("[fd00::7]:5000")
    assert policy.allows("ci.example:8080")
    assert policy.allows("localhost:5000")  # loopback always answers
    assert not policy.allows("192.168.0.7")  # an explicit list replaces the private ranges
    assert HostPolicy(["*"]).allows("anything.example")


def test_split_host() -> None:
    assert split_host("[::1]:5000") == ("::1", "5000")
    assert split_host("Example.COM.:80") == ("example.com", "80")
    assert split_host("fd00::1") == ("fd00::1", "")


def test_origin_policy() -> None:
    policy = OriginPolicy(["https://app.example", "https://*.tools.example"])
    assert policy.allows("http://localhost:3000", "127.0.0.1:5000")
    assert policy.allows("http://10.0.0.5:5000", "10.0.0.5:5000")  # same origin
    assert policy.allows("https://app.example", "127.0.0.1:5000")
    assert policy.allows("https://x.tools.example", "127.0.0.1:5000")
    assert not policy.allows("https://evil.example", "127.0.0.1:5000")
    assert not policy.allows("null", "127.0.0.1:5000")


def test_live_host_header_not_allowed_is_403_with_no_side_effect(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        name = "rebinding-attempt"
        answer = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": name},
            headers={"host": "evil.example:5000"},
        )
        assert answer.status_code == 403
        assert "Host" in answer.text
        found = client.get(
            "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
        )
        assert found.status_code == 404
        # health and version stay reachable for load balancers whatever name they use
        assert client.get("/health", headers={"host": "lb.internal"}).status_code == 200


def test_live_cross_origin_write_is_blocked(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        answer = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "csrf-attempt"},
            headers={"origin": "https://evil.example"},
        )
        assert answer.status_code == 403
        found = client.get(
            "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "csrf-attempt"}
        )
        assert found.status_code == 404
        # reading is allowed, but without CORS headers the browser hides the answer
        read = client.get("/health", headers={"origin": "https://evil.example"})
        assert read.status_code == 200
        assert "access-control-allow-origin" not in read.headers


def test_live_local_origin_gets_cors(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        origin = "http://localhost:3000"
        pre = client.options(
            "/api/2.0/mlflow/experiments/create",
            headers={"origin": origin, "access-control-request-method": "POST"},
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == origin
        answer = client.post(
            "/api/2.0/mlflow/experiments/search", json={}, headers={"origin": origin}
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == origin
        refused = client.options(
            "/api/2.0/mlflow/experiments/create",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert refused.status_code == 403


def test_server_with_allowed_hosts_setting(tmp_path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        allowed_hosts=("mlflow.corp.example",),
        cors_allowed_origins=("https://app.corp.example",),
    )
    with serve(settings) as server, httpx.Client(base_url=server.url) as client:
        url = "/api/2.0/mlflow/experiments/get"
        params = {"experiment_id": "0"}
        ok = client.get(url, params=params, headers={"host": "mlflow.corp.example"})
        assert ok.status_code == 200
        assert client.get(url, params=params, headers={"host": "10.0.0.1"}).status_code == 403
        write = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "from-app"},
            headers={"origin": "https://app.corp.example"},
        )
        assert write.status_code == 200
        assert write.headers["access-control-allow-origin"] == "https://app.corp.example"
