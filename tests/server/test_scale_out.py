"""Scale-out: ``mltrail server --workers 2`` over PostgreSQL, hammered by 20 client threads.
Every metric point lands exactly once and no request fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

THREADS = 20
BATCHES = 8
POINTS = 250  # per batch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_worker_server(pg_uri: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from mltrail.cli import main; main()",
        "server",
        "--backend-store-uri",
        pg_uri,
        "--artifacts-destination",
        str(tmp_path / "artifacts"),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, tmp_path / "server.log")
        assert len(_children(proc.pid)) >= 2, "expected two uvicorn worker processes"
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                # the command name (field 2) may hold spaces: the parent pid follows its ")"
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=2).text == "OK":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not start:\n{log.read_text()}")


def _worker(api: str, index: int, experiment_id: str, shared_run: str) -> tuple[str, int]:
    """Log BATCHES batches to an own run and to the shared run; return own run and errors."""
    errors = 0
    with httpx.Client(base_url=api, timeout=60) as client:
        created = client.post("/runs/create", json={"experiment_id": experiment_id})
        own_run = created.json()["run"]["info"]["run_id"]
        for batch in range(BATCHES):
            steps = range(batch * POINTS, (batch + 1) * POINTS)
            own = [{"key": "loss", "value": s / 7, "timestamp": 1000 + s, "step": s} for s in steps]
            shared = [
                {
                    "key": "shared",
                    "value": index,
                    "timestamp": 1000 + s,
                    "step": s * THREADS + index,
                }
                for s in steps[:50]
            ]
            for run_id, metrics, extra in (
                (own_run, own, {"params": [{"key": f"b{batch}", "value": str(batch)}]}),
                (shared_run, shared, {"tags": [{"key": f"w{index}", "value": str(batch)}]}),
            ):
                answer = client.post(
                    "/runs/log-batch", json={"run_id": run_id, "metrics": metrics, **extra}
                )
                errors += answer.status_code != 200
    return own_run, errors


@pytest.mark.postgres
@pytest.mark.slow
def test_twenty_clients_two_workers_every_point_once(two_worker_server: str) -> None:
    api = two_worker_server + "/api/2.0/mlflow"
    with httpx.Client(base_url=api, timeout=60) as client:
        experiment_id = client.post("/experiments/create", json={"name": "scale"}).json()[
            "experiment_id"
        ]
        shared_run = client.post("/runs/create", json={"experiment_id": experiment_id}).json()[
            "run"
        ]["info"]["run_id"]
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(
                pool.map(lambda i: _worker(api, i, experiment_id, shared_run), range(THREADS))
            )
        assert sum(errors for _, errors in results) == 0

        expected_steps = list(range(BATCHES * POINTS))
        for own_run, _ in results:
            history = client.get(
                "/metrics/get-history", params={"run_id": own_run, "metric_key": "loss"}
            ).json()["metrics"]
            assert [m["step"] for m in history] == expected_steps
            run = client.get("/runs/get", params={"run_id": own_run}).json()["run"]
            assert len(run["data"]["params"]) == BATCHES
            latest = run["data"]["metrics"]
            assert latest == [
                {
                    "key": "loss",
                    "value": expected_steps[-1] / 7,
                    "timestamp": 1000 + expected_steps[-1],
                    "step": expected_steps[-1],
                }
            ]

        shared = client.get(
            "/metrics/get-history", params={"run_id": shared_run, "metric_key": "shared"}
        ).json()["metrics"]
        shared_steps = sorted(m["step"] for m in shared)
        wanted = sorted(
            s * THREADS + i
            for i in range(THREADS)
            for b in range(BATCHES)
            for s in range(b * POINTS, b * POINTS + 50)
        )
        assert shared_steps == wanted
        run = client.get("/runs/get", params={"run_id": shared_run}).json()["run"]
        assert {t["key"] for t in run["data"]["tags"]} >= {f"w{i}" for i in range(THREADS)}
        assert run["data"]["metrics"][0]["step"] == max(wanted)
