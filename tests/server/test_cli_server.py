"""``mltrail server`` / ``mltrail ui``: settings from options, clear start-up failures, and a
real start in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from mltrail.cli import main
from mltrail.cli.server import build_settings, free_port, port_owner


def settings_for(**overrides: object):
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


def test_defaults_are_local_and_absolute(tmp_path: Path) -> None:
    settings = settings_for()
    assert settings.backend_store_uri == f"sqlite:///{tmp_path / 'mltrail.db'}"
    assert settings.artifacts_destination == str(tmp_path / "mltrail-artifacts")
    assert settings.default_artifact_root == "mlflow-artifacts:/"


def test_no_serve_artifacts_hands_out_the_destination(tmp_path: Path) -> None:
    settings = settings_for(serve_artifacts=False, artifacts_destination="s3://bucket/runs")
    assert settings.default_artifact_root == "s3://bucket/runs"
    assert not settings.serve_artifacts


def test_lists_are_split(tmp_path: Path) -> None:
    settings = settings_for(allowed_hosts="a.example, b.example,", cors_allowed_origins="*")
    assert settings.allowed_hosts == ("a.example", "b.example")
    assert settings.cors_allowed_origins == ("*",)


def test_settings_survive_the_environment_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrail.server.settings import ServerSettings

    settings = settings_for(allowed_hosts="ml.example", serve_artifacts=False)
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert ServerSettings.from_env() == settings


def test_bad_backend_uri_is_one_sentence() -> None:
    result = CliRunner().invoke(main, ["server", "--backend-store-uri", "bogus://nowhere"])
    assert result.exit_code == 1
    assert "bogus" in result.output and "Traceback" not in result.output


def test_server_address_as_backend_is_refused() -> None:
    result = CliRunner().invoke(main, ["ui", "--backend-store-uri", "http://localhost:5000"])
    assert result.exit_code == 2
    assert "database" in result.output


def test_port_in_use_names_the_process_and_a_free_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert port_owner(port) is not None and f"pid {os.getpid()}" in port_owner(port)
        result = CliRunner().invoke(main, ["ui", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port}" in result.output and "already in use" in result.output
    assert f"pid {os.getpid()}" in result.output
    assert "--port " in result.output


def test_free_port_skips_busy_ones() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        found = free_port("127.0.0.1", port)
    assert found is not None and found != port


@pytest.mark.slow
def test_ui_starts_and_says_where_things_are(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mltrail.cli import main; main()", "ui", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/create", json={"name": "cli"}
        )
        assert created.status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode()
    assert str(tmp_path / "mltrail.db") in output
    assert str(tmp_path / "mltrail-artifacts") in output
    assert f"http://127.0.0.1:{port}" in output
    assert (tmp_path / "mltrail.db").exists()


def test_artifact_location_allowlist_and_body_size_options(tmp_path: Path) -> None:
    settings = settings_for(
        allowed_artifact_locations="s3://ml/teams, shared , mlflow-artifacts:/",
        max_body_size="512KiB",
    )
    assert settings.allowed_artifact_locations == (
        "s3://ml/teams",
        str(tmp_path / "shared"),
        "mlflow-artifacts:/",
    )
    assert settings.max_body_bytes == 512 * 1024
    assert settings_for().max_body_bytes == 4 * 1024 * 1024
    assert settings_for().artifact_location_roots() == ("mlflow-artifacts:/",)
    with pytest.raises(click.BadParameter, match="write it like"):
        settings_for(max_body_size="huge")
    with pytest.raises(click.BadParameter, match="user names"):
        settings_for(allowed_artifact_locations="s3://user@bucket/x")
