"""Fault suite: SIGKILL the server in the middle of writes (and restart it), with raw
MLflow-style writers and a live mltrail client; nothing acknowledged is lost, the database
stays sound, and no run is left RUNNING by a dead writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, folder: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "mltrail", "server",
        "--backend-store-uri", f"sqlite:///{db}",
        "--artifacts-destination", str(folder / "artifacts"),
        "--port", str(port),
        "--run-lease", "2s",
        "--run-lease-without-heartbeats", "2s",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def wait_until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


CLIENT = textwrap.dedent(
    """
    import sys, time
    import mltrail
    mltrail.set_tracking_uri(sys.argv[1])
    with mltrail.start_run() as run:
        print(run.info.run_id, flush=True)
        for step in range(int(sys.argv[2])):
            mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
            time.sleep(0.02)
    print("done", flush=True)
    """
)


class Writer(threading.Thread):
    """An MLflow-style writer: one run, numbered batches, remembers what was acknowledged."""

    def __init__(self, api: str) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.run_id = httpx.post(api + "/runs/create", json={}).json()["run"]["info"]["run_id"]
        self.acked: list[int] = []  # steps whose batch got a 200
        self.stop = threading.Event()

    def run(self) -> None:
        batch = 0
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                steps = range(batch * 50, batch * 50 + 50)
                body = {
                    "run_id": self.run_id,
                    "metrics": [
                        {"key": "m", "value": s * 0.5, "timestamp": 1000 + s, "step": s}
                        for s in steps
                    ],
                }
                try:
                    answer = client.post(self.api + "/runs/log-batch", json=body)
                except httpx.HTTPError:
                    return  # the server died: this writer dies too, its run stranded
                if answer.status_code == 200:
                    self.acked.extend(steps)
                batch += 1


def test_sigkill_the_server_during_writes(tmp_path: Path) -> None:
    db, port = tmp_path / "mltrail.db", free_port()
    url = f"http://127.0.0.1:{port}"
    api = url + "/api/2.0/mlflow"
    server = start_server(db, tmp_path, port)
    script = tmp_path / "train.py"
    script.write_text(CLIENT)
    trainer = None
    try:
        trainer = subprocess.Popen(
            [sys.executable, str(script), url, "300"],
            stdout=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "MLTRAIL_HTTP_REQUEST_MAX_RETRIES": "10",
                "MLTRAIL_RUN_HEARTBEATS": "true",
            },
        )
        assert trainer.stdout is not None
        trainer_run = trainer.stdout.readline().strip()
        writers = [Writer(api) for _ in range(6)]
        for writer in writers:
            writer.start()
        assert wait_until(lambda: all(len(w.acked) >= 100 for w in writers))
        server.send_signal(signal.SIGKILL)  # mid-write, no chance to finish anything
        server.wait(timeout=30)
        for writer in writers:
            writer.join(timeout=30)

        check = sqlite3.connect(db)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()

        server = start_server(db, tmp_path, port)  # same database, same address
        # Every acknowledged point is there, once.
        for writer in writers:
            history = httpx.get(
                api + "/metrics/get-history",
                params={"run_id": writer.run_id, "metric_key": "m", "max_results": 100000},
            ).json()["metrics"]
            steps = [m["step"] for m in history]
            assert len(steps) == len(set(steps))
            assert set(writer.acked) <= set(steps)

        def status(run_id: str) -> str:
            answer = httpx.get(api + "/runs/get", params={"run_id": run_id})
            return str(answer.json()["run"]["info"]["status"])

        # The dead writers' runs are not left RUNNING.
        assert wait_until(lambda: all(status(w.run_id) == "KILLED" for w in writers))
        # The live client rode out the restart: its run finished whole.
        assert trainer.stdout.readline().strip() == "done"
        assert trainer.wait(timeout=60) == 0
        assert status(trainer_run) == "FINISHED"
        history = httpx.get(
            api + "/metrics/get-history",
            params={"run_id": trainer_run, "metric_key": "loss", "max_results": 1000},
        ).json()["metrics"]
        assert sorted(m["step"] for m in history) == list(range(300))
    finally:
        if trainer is not None and trainer.poll() is None:
            trainer.kill()
        server.kill()
        server.wait(timeout=30)


def test_sigterm_finishes_what_was_acknowledged(tmp_path: Path) -> None:
    """A graceful shutdown: in-flight requests finish; every acknowledged batch is stored."""
    db, port = tmp_path / "mltrail.db", free_port()
    api = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    server = start_server(db, tmp_path, port)
    try:
        writers = [Writer(api) for _ in range(4)]
        for writer in writers:
            writer.start()
        assert wait_until(lambda: all(len(w.acked) >= 100 for w in writers))
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        for writer in writers:
            writer.join(timeout=30)
        server = start_server(db, tmp_path, port)
        for writer in writers:
            history = httpx.get(
                api + "/metrics/get-history",
                params={"run_id": writer.run_id, "metric_key": "m", "max_results": 100000},
            ).json()["metrics"]
            assert set(writer.acked) <= {m["step"] for m in history}
    finally:
        server.kill()
        server.wait(timeout=30)
