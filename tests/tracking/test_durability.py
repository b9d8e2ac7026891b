"""Buffered writes: nothing flushed is lost, even when the process is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import mltrail
from mltrail.store.sql.store import SqlStore

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import mltrail
    mltrail.set_tracking_uri(sys.argv[1])
    run = mltrail.start_run()
    for step in range(5000):
        mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
    mltrail.log_param("p", "1")
    mltrail.flush()
    print(run.info.run_id, flush=True)
    for step in range(5000, 10000):  # logged after flush(): may or may not land
        mltrail.log_metric("loss", 0.0, step=step)
    time.sleep(60)
    """
)


def _kill_after_flush(uri: str, tmp_path) -> str:
    script = tmp_path / "logger.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), uri],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLTRAIL_QUIET": "1"},
    )
    run_id = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return run_id


def test_sigkill_after_flush_keeps_every_flushed_point(db_uri, tmp_path):
    run_id = _kill_after_flush(db_uri, tmp_path)
    store = SqlStore(db_uri, str(tmp_path / "a"))
    steps = {m.step for m in store.get_metric_history(run_id, "loss")}
    assert set(range(5000)) <= steps
    assert store.get_run(run_id).data.params == {"p": "1"}
    assert store.get_run(run_id).info.status == "RUNNING"


def test_points_are_written_in_the_background_without_flush():
    run = mltrail.start_run()
    mltrail.log_metric("m", 1.0)
    client = mltrail.MlflowClient()
    deadline = time.time() + 10
    # Read straight from the store (client reads would flush first).
    while time.time() < deadline and "m" not in client.store.get_run(run.info.run_id).data.metrics:
        time.sleep(0.05)
    assert client.store.get_run(run.info.run_id).data.metrics["m"] == 1.0
    mltrail.end_run()


def test_every_point_is_durable_after_end_run(tmp_path):
    with mltrail.start_run() as run:
        for step in range(20000):
            mltrail.log_metric("loss", float(step), step=step)
    other = SqlStore(mltrail.get_tracking_uri(), str(tmp_path))
    assert len(other.get_metric_history(run.info.run_id, "loss")) == 20000


def test_buffered_points_are_flushed_at_interpreter_exit(tmp_path):
    uri = "sqlite:///" + str(tmp_path / "exit.db")
    code = (
        "import mltrail, sys; mltrail.set_tracking_uri(sys.argv[1]); "
        "r = mltrail.start_run(); [mltrail.log_metric('m', i, step=i) for i in range(3000)]; "
        "print(r.info.run_id)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, uri], capture_output=True, text=True, check=True
    )
    run_id = out.stdout.strip()
    store = SqlStore(uri, str(tmp_path))
    assert len(store.get_metric_history(run_id, "m")) == 3000
    assert store.get_run(run_id).info.status == "FINISHED"  # ended at exit, as MLflow does


def test_resume_run_from_another_process(tmp_path):
    """A Spark-style worker process logs into a run the driver started."""
    uri = "sqlite:///" + str(tmp_path / "shared.db")
    mltrail.set_tracking_uri(uri)
    driver_run = mltrail.start_run(run_name="driver")
    mltrail.log_param("workers", 2)
    mltrail.flush()
    worker = (
        "import mltrail, sys; mltrail.set_tracking_uri(sys.argv[1]); "
        "run = mltrail.start_run(run_id=sys.argv[2]); "
        "[mltrail.log_metric('partition_rows', 100 + i, step=i) for i in range(50)]"
    )
    subprocess.run(
        [sys.executable, "-c", worker, uri, driver_run.info.run_id], check=True, timeout=60
    )
    mltrail.end_run()
    run = mltrail.get_run(driver_run.info.run_id)
    assert run.data.params == {"workers": "2"}
    assert run.data.metrics["partition_rows"] == 149
    assert run.info.status == "FINISHED"
