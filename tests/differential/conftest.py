"""Fixtures of the differential suite: the three ways a scenario runs.

* ``mlflow_impl``: the real ``mlflow`` package in this process, on a SQLite file;
* ``mltrail_impl``: ``mltrail`` in this process, on a SQLite file;
* ``server_impl``: the real ``mlflow`` client against a live ``mltrail server``.

MLflow's observations are computed once per case and shared by the two comparisons.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

sys.path.insert(0, str(Path(__file__).parent))

from diff_harness import Impl, run_case  # noqa: E402


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


@pytest.fixture(scope="session")
def diff_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("differential")


@pytest.fixture(scope="session")
def mlflow_impl(diff_root: Path) -> Iterator[Impl]:
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    yield Impl("mlflow", mlflow, f"sqlite:///{diff_root / 'mlflow.db'}", local_artifacts=True)
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def mltrail_impl(diff_root: Path) -> Iterator[Impl]:
    import mltrail

    yield Impl("mltrail", mltrail, f"sqlite:///{diff_root / 'mltrail.db'}", local_artifacts=True)
    mltrail.tracking.fluent._reset_for_tests()


@pytest.fixture(scope="session")
def server_impl(diff_root: Path) -> Iterator[Impl]:
    import mlflow

    live = _load_live_helpers()
    folder = diff_root / "server"
    folder.mkdir()
    settings = live.make_settings(f"sqlite:///{folder / 'mltrail.db'}", folder)
    with live.serve(settings) as server:
        yield Impl("server", mlflow, server.url, local_artifacts=False)
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def mlflow_observations() -> dict[str, Any]:
    return {}


@pytest.fixture
def observe(diff_root: Path) -> Any:
    counter = [0]

    def run(impl: Impl, c: Any) -> Any:
        impl.module.set_tracking_uri(impl.tracking_uri)
        return run_case(impl, c, diff_root, counter)

    return run
