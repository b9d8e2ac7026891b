"""Run leases: a run whose process died is marked KILLED; a live one never is; nothing logged
is lost. Real server (lease task running), real client processes, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, make_settings, serve

from mltrail.store.rest import RestStore
from mltrail.store.rest_heartbeats import heartbeats_for, wait_for_first_beat


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def heartbeats_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_RUN_HEARTBEATS", "true")  # off elsewhere in the tests


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        # Leases of a few seconds: long enough that a busy machine does not miss a beat.
        run_lease_seconds=3.0,
        silent_run_lease_seconds=4.0,
    )
    with serve(settings, lifespan="on") as live:
        yield live


def status(server: LiveServer, run_id: str) -> str:
    answer = httpx.get(server.api + "/runs/get", params={"run_id": run_id})
    return str(answer.json()["run"]["info"]["status"])


def test_a_silent_run_is_killed_when_its_lease_runs_out(server: LiveServer) -> None:
    run = httpx.post(server.api + "/runs/create", json={"start_time": 1}).json()["run"]["info"]
    batch = {"run_id": run["run_id"], "metrics": [{"key": "m", "value": 1, "timestamp": 5}]}
    assert httpx.post(server.api + "/runs/log-batch", json=batch).status_code == 200
    assert status(server, run["run_id"]) == "RUNNING"
    assert wait_until(lambda: status(server, run["run_id"]) == "KILLED")
    info = httpx.get(server.api + "/runs/get", params={"run_id": run["run_id"]}).json()["run"]
    assert info["info"]["end_time"] > 0
    assert info["data"]["metrics"] == [{"key": "m", "value": 1.0, "timestamp": 5, "step": 0}]


def test_a_heartbeating_run_stays_running_until_its_client_stops(server: LiveServer) -> None:
    store = RestStore(server.url)
    run = store.create_run("0", "me", 0)
    beater = heartbeats_for(store._http, server.url)
    wait_for_first_beat(beater)
    assert beater.interval == pytest.approx(0.75)  # a quarter of the 3 s lease
    # Several leases long, with no write at all: the heartbeats alone keep it alive.
    assert not wait_until(lambda: status(server, run.info.run_id) != "RUNNING", seconds=7)
    beater.stop(run.info.run_id)  # as if the process had died
    assert wait_until(lambda: status(server, run.info.run_id) == "KILLED")


def test_ending_a_run_stops_its_heartbeats_and_it_stays_finished(server: LiveServer) -> None:
    store = RestStore(server.url)
    run = store.create_run("0", "me", 0)
    store.update_run_info(run.info.run_id, status="FINISHED", end_time=10)
    beater = heartbeats_for(store._http, server.url)
    assert run.info.run_id not in beater.runs
    assert not wait_until(lambda: status(server, run.info.run_id) != "FINISHED", seconds=3)


def test_a_killed_run_that_shows_signs_of_life_is_running_again(server: LiveServer) -> None:
    run = httpx.post(server.api + "/runs/create", json={}).json()["run"]["info"]
    assert wait_until(lambda: status(server, run["run_id"]) == "KILLED")
    beat = httpx.post(server.api + "/runs/heartbeat", json={"run_id": run["run_id"]})
    assert beat.status_code == 200, beat.text
    assert beat.json()["status"] == "RUNNING" and beat.json()["lease_seconds"] == 3.0
    info = httpx.get(server.api + "/runs/get", params={"run_id": run["run_id"]}).json()
    assert "end_time" not in info["run"]["info"]


def test_heartbeat_for_an_unknown_run_is_404(server: LiveServer) -> None:
    answer = httpx.post(server.api + "/runs/heartbeat", json={"run_id": "f" * 32})
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_without_a_silent_lease_mlflow_style_runs_are_never_killed(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db'}", tmp_path, silent_run_lease_seconds=None
    )
    with serve(settings) as live:
        run = httpx.post(live.api + "/runs/create", json={}).json()["run"]["info"]
        leases = live.app.state.leases
        leases.flush()
        far_future = int(time.time() * 1000) + 10**12
        assert leases.reap(now_ms=far_future) == []
        assert status(live, run["run_id"]) == "RUNNING"
        # A heartbeat gives it the heartbeat lease, which does run out.
        httpx.post(live.api + "/runs/heartbeat", json={"run_id": run["run_id"]})
        assert leases.reap(now_ms=far_future) == [run["run_id"]]
        assert status(live, run["run_id"]) == "KILLED"


def test_no_leases_at_all(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path, run_lease_seconds=None)
    with serve(settings) as live:
        run = httpx.post(live.api + "/runs/create", json={}).json()["run"]["info"]
        answer = httpx.post(live.api + "/runs/heartbeat", json={"run_id": run["run_id"]})
        assert answer.status_code == 501
        assert live.app.state.leases is None


CLIENT = textwrap.dedent(
    """
    import sys, time
    import mltrail
    mltrail.set_tracking_uri(sys.argv[1])
    with mltrail.start_run() as run:
        for step in range(50):
            mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
        mltrail.flush()
        print(run.info.run_id, flush=True)
        time.sleep(600)   # "training": killed before it ends
    """
)


def test_sigkill_of_the_client_mid_run_strands_nothing_and_loses_nothing(
    server: LiveServer, tmp_path: Path
) -> None:
    script = tmp_path / "train.py"
    script.write_text(CLIENT)
    child = subprocess.Popen(
        [sys.executable, str(script), server.url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLTRAIL_TRACKING_URI": server.url},
    )
    try:
        assert child.stdout is not None
        run_id = child.stdout.readline().strip()
        assert run_id, "the client did not start its run"
        # Alive and beating: RUNNING for several leases.
        assert not wait_until(lambda: status(server, run_id) != "RUNNING", seconds=6)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert wait_until(lambda: status(server, run_id) == "KILLED")
    history = httpx.get(
        server.api + "/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss", "max_results": 1000},
    ).json()["metrics"]
    assert sorted(m["step"] for m in history) == list(range(50))
