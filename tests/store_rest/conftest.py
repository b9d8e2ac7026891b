"""Fixtures: the real app on uvicorn, and a RestStore talking to it over a counting session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from live_servers import ThreadServer, settings_for

from mltrail.store.rest import RestStore
from mltrail.store.rest_http import HttpClient


class RecordingSession(requests.Session):
    """A real session that remembers what it sent (method, URL, headers, body)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        return super().send(request, **kwargs)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", "0.05")
    for var in (
        "MLTRAIL_TRACKING_USERNAME",
        "MLTRAIL_TRACKING_PASSWORD",
        "MLTRAIL_TRACKING_TOKEN",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadServer]:
    live = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
    yield live
    live.stop()


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def store(server: ThreadServer, session: RecordingSession) -> RestStore:
    return RestStore(server.url, HttpClient(session))
