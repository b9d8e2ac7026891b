"""Fixtures of the differential suite: the three ways a scenario runs.

* ``mlflow_impl``: the real ``mlflow`` package in this process, on a SQLite file;
* ``mltrail_impl``: ``mltrail`` in this process, on a SQLite file;
* ``server_impl``: the real ``mlflow`` client against a live ``mltrail server``.

MLflow's observations are computed once per case and shared by the two comparisons.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before mlflow is imported anywhere: no telemetry from tests (as tests/compat does).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

# For the mlflow client while this suite runs only (other suites check these defaults).
_MLFLOW_CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
}

sys.path.insert(0, str(Path(__file__).parent))

from diff_harness import Impl, run_case  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def mlflow_client_env() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in _MLFLOW_CLIENT_ENV}
    os.environ.update(_MLFLOW_CLIENT_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


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
    """``mltrail server`` in its own process (the real command; and the client's and the
    server's work then run on two cores instead of sharing one interpreter)."""
    import mlflow

    folder = diff_root / "server"
    folder.mkdir()
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "mltrail"), "server",
        "--backend-store-uri", f"sqlite:///{folder / 'mltrail.db'}",
        "--artifacts-destination", str(folder / "artifacts"),
        "--port", str(port),
    ]  # fmt: skip
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        _wait_for_port(port, proc)
        yield Impl("server", mlflow, f"http://127.0.0.1:{port}", local_artifacts=False)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        mlflow.set_tracking_uri(None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mltrail server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mltrail server did not listen on port {port} in {timeout}s")


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
