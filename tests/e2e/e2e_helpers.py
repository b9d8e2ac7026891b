"""Helpers for the end-to-end tests: ``mltrail server`` started as a user starts it (the CLI,
in its own process group), and clean environments for client subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from live_servers import free_port

VENV_BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any tracking or cloud settings, plus ``extra``.

    Telemetry stays off in every child (tests reach no network but the loopback)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "MLTRAIL_", "AWS_", "BOTO"))
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    env.update(extra)
    return env


class CliServer:
    """``mltrail server ARGS`` in its own process group, ready once /health answers."""

    def __init__(self, args: list[str], folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "mltrail"), "server", "--port", str(self.port), *args],
            cwd=folder,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mltrail server exited at start:\n{self.output()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mltrail server did not start:\n{self.output()}")
            time.sleep(0.1)

    @property
    def api(self) -> str:
        return self.url + "/api/2.0/mlflow"

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def cli_server(args: list[str], folder: Path, env: dict[str, str]) -> Iterator[CliServer]:
    server = CliServer(args, folder, env)
    try:
        yield server
    finally:
        server.stop()
