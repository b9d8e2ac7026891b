"""Operating the server: Prometheus metrics, an artifacts-only server, the options' plumbing."""

from __future__ import annotations

import re
from pathlib import Path

import click
import httpx
import pytest
from mltrail_live import make_settings, serve

from mltrail.cli.server import build_settings


def _value(text: str, pattern: str) -> float:
    found = re.search(pattern + r" ([0-9.e+-]+)$", text, flags=re.MULTILINE)
    assert found, pattern
    return float(found.group(1))


def test_prometheus_metrics(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path, expose_prometheus=True)
    with serve(settings) as live:
        run = httpx.post(live.api + "/runs/create", json={}).json()["run"]["info"]["run_id"]
        metrics = [{"key": "m", "value": i, "timestamp": 1, "step": i} for i in range(250)]
        for _ in range(3):
            answer = httpx.post(
                live.api + "/runs/log-batch", json={"run_id": run, "metrics": metrics}
            )
            assert answer.status_code == 200
        httpx.get(live.api + "/runs/get", params={"run_id": "nope"})
        text = httpx.get(live.url + "/metrics").text
    route = 'route="/api/2.0/mlflow/runs/log-batch"'
    assert _value(text, rf'mltrail_http_requests_total{{method="POST",{route},status="200"}}') == 3
    assert (
        _value(text, rf'mltrail_http_request_duration_seconds_count{{method="POST",{route}}}') == 3
    )
    assert _value(text, "mltrail_metric_points_ingested_total") == 750
    assert 'route="/api/2.0/mlflow/runs/get",status="404"' in text
    assert "mltrail_db_pool_connections_in_use" in text
    assert "# TYPE mltrail_http_request_duration_seconds histogram" in text
    assert "/runs/get?" not in text and "nope" not in text  # labels are templates, not paths


def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    with serve(make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path)) as live:
        assert httpx.get(live.url + "/metrics").status_code == 404


def test_artifacts_only_server(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path, artifacts_only=True)
    with serve(settings) as live:
        url = live.url + "/api/2.0/mlflow-artifacts/artifacts/x/a.txt"
        assert httpx.put(url, content=b"hi").status_code == 200
        assert httpx.get(url).content == b"hi"
        assert httpx.get(live.url + "/health").status_code == 200
        assert httpx.post(live.api + "/runs/create", json={}).status_code == 404
        assert httpx.get(live.url + "/", headers={"Accept": "text/html"}).status_code == 404


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    values = {
        "backend_store_uri": "sqlite:///./mltrail.db",
        "default_artifact_root": None,
        "artifacts_destination": "./mltrail-artifacts",
        "serve_artifacts": True,
        "allowed_hosts": None,
        "cors_allowed_origins": None,
    }
    values.update(overrides)
    return build_settings(**values)


def test_operation_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _settings(expose_prometheus="/tmp/prom").expose_prometheus  # MLflow's DIR form
    assert _settings(expose_prometheus="on").expose_prometheus
    assert not _settings().expose_prometheus
    assert _settings(artifacts_only=True).artifacts_only
    with pytest.raises(click.BadParameter, match="artifacts-only"):
        _settings(artifacts_only=True, serve_artifacts=False)
    assert _settings(run_lease="none").run_lease_seconds is None
    assert (
        _settings(run_lease="90s", run_lease_without_heartbeats="2h").silent_run_lease_seconds
        == 7200
    )
    with pytest.raises(click.BadParameter, match="duration"):
        _settings(run_lease="soon")
    env = _settings(auth=True, auth_default_permission="edit", max_concurrent_requests=7).to_env()
    assert env["MLTRAIL_AUTH"] == "1" and env["MLTRAIL_AUTH_DEFAULT_PERMISSION"] == "EDIT"
    assert env["MLTRAIL_MAX_CONCURRENT_REQUESTS"] == "7"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from mltrail.server.settings import ServerSettings

    again = ServerSettings.from_env()
    assert again.auth and again.auth_default_permission == "EDIT"
    assert again.max_concurrent_requests == 7
