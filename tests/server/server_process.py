"""A real ``mltrail server`` process on a free port, for tests of command-line options."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def mltrail_server(
    folder: Path, *options: str, probe: str = "/health", env: dict[str, str] | None = None
) -> Iterator[str]:
    """``mltrail server --port N *options`` in ``folder``; yields ``http://127.0.0.1:N``.
    The process is stopped (SIGINT to its group) when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "mltrail", "server", "--port", str(port), *options]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    proc = subprocess.Popen(
        command,
        cwd=folder,
        env={**clean, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + probe).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.communicate(timeout=10)[0].decode(errors="replace")
                raise RuntimeError(f"mltrail server did not start:\n{output[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def mlflow_env(tracking_uri: str, **extra: str) -> dict[str, str]:
    """The environment for a subprocess running the real ``mlflow`` client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(extra)
    return env
