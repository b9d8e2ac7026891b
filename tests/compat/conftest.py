"""The compatibility suite: the real ``mlflow`` client (mlflow-skinny) against a live mltrail
server.

Fixtures other suites can reuse (artifacts through the proxy, for one):

* ``mlflow_server``: a live server (module scope) over a fresh SQLite file, artifact serving
  on, artifacts under ``mlflow_server.settings.artifacts_destination``;
* ``mlflow_tracking``: points the ``mlflow`` module at that server for one test (environment
  and ``set_tracking_uri``), with no retries so failures surface at once, and leaves no active
  run or experiment behind;
* ``mlflow_client``: an ``MlflowClient`` on that server.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before mlflow is imported anywhere: no telemetry from tests.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _load_live_helpers() -> Any:
    path = Path(__file__).parent.parent / "server" / "mltrail_live.py"
    if "mltrail_live" in sys.modules:
        return sys.modules["mltrail_live"]
    spec = importlib.util.spec_from_file_location("mltrail_live", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["mltrail_live"] = module
    spec.loader.exec_module(module)
    return module


live = _load_live_helpers()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("compat")
    settings = live.make_settings(f"sqlite:///{folder / 'mltrail.db'}", folder)
    with live.serve(settings) as server:
        yield server


@pytest.fixture
def mlflow_tracking(mlflow_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import mlflow
    from mlflow.tracking import fluent

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    mlflow.set_tracking_uri(mlflow_server.url)
    _reset_mlflow_state(fluent)
    yield mlflow_server.url
    _reset_mlflow_state(fluent)
    mlflow.set_tracking_uri(None)


def _reset_mlflow_state(fluent: Any) -> None:
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()
    fluent._active_experiment_id = None
    fluent._last_active_run_id.set(None)


@pytest.fixture
def mlflow_client(mlflow_tracking: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=mlflow_tracking)
