"""Fixtures of the project tests: a fresh SQLite store per test, a shared environment cache
per session, and a way to run ``mltrail run`` as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_helpers import child_env

from mltrail.tracking.client import TrailClient


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("env-cache")


@pytest.fixture
def store(tmp_path: Path) -> str:
    return "sqlite:///" + str(tmp_path / "store" / "mltrail.db")


@pytest.fixture
def client(store: str) -> Iterator[TrailClient]:
    os.makedirs(store[len("sqlite:///") :].rsplit("/", 1)[0], exist_ok=True)
    yield TrailClient(store)


@pytest.fixture
def mltrail_run(store: str, env_cache: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``mltrail_run(*args, cwd=..., env={...})`` -> CompletedProcess (text)."""
    os.makedirs(store[len("sqlite:///") :].rsplit("/", 1)[0], exist_ok=True)

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
        full_env = child_env(store, env_cache, tmp_path)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "mltrail", "run", *args],
            cwd=cwd or tmp_path,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
