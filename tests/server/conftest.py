"""Fixtures for the server tests: one live server per test module and backend (SQLite file
and PostgreSQL), an HTTP client on its API, and fresh experiments and runs per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mltrail_live import LiveServer, fresh_pg_database, make_settings, serve  # noqa: E402


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def live_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    """A real server (uvicorn, own thread, free port) over a fresh database."""
    folder = tmp_path_factory.mktemp("server")
    if request.param == "sqlite":
        with serve(make_settings(f"sqlite:///{folder / 'mltrail.db'}", folder)) as server:
            yield server
        return
    admin = request.getfixturevalue("pg_server")
    with fresh_pg_database(admin) as uri, serve(make_settings(uri, folder)) as server:
        yield server


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client whose base URL is the server's /api/2.0/mlflow."""
    with httpx.Client(base_url=live_server.api, timeout=30) as client:
        yield client


@pytest.fixture
def experiment_id(api: httpx.Client) -> str:
    answer = api.post("/experiments/create", json={"name": f"exp-{uuid.uuid4().hex[:10]}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["experiment_id"]


@pytest.fixture
def run_id(api: httpx.Client, experiment_id: str) -> str:
    answer = api.post("/runs/create", json={"experiment_id": experiment_id, "start_time": 1000})
    assert answer.status_code == 200, answer.text
    return answer.json()["run"]["info"]["run_id"]
