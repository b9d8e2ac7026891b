"""System metrics, console capture and code capture alongside a run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from conftest_helpers import artifact_paths

import mltrail
from mltrail.companions import code_capture, console

SYSTEM_NAMES = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_log_system_metrics_per_run_with_mlflow_names(client):
    pytest.importorskip("psutil")
    mltrail.set_system_metrics_sampling_interval(0.1)
    with mltrail.start_run(log_system_metrics=True) as run:
        assert _wait_for(
            lambda: (
                len(client.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage"))
                >= 2
            )
        )
    data = client.get_run(run.info.run_id).data
    assert set(data.metrics) >= SYSTEM_NAMES
    steps = [
        m.step for m in client.get_metric_history(run.info.run_id, "system/disk_usage_percentage")
    ]
    assert steps == list(range(len(steps)))
    assert 0 <= data.metrics["system/system_memory_usage_percentage"] <= 100
    final = len(steps)
    time.sleep(0.3)  # the monitor stopped with the run: nothing more arrives
    later = client.get_metric_history(run.info.run_id, "system/disk_usage_percentage")
    assert len(later) == final


def test_global_switch_node_id_and_explicit_false(client, monkeypatch):
    pytest.importorskip("psutil")
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.1")
    mltrail.set_system_metrics_node_id("worker-1")
    with mltrail.start_run() as run:
        key = "system/worker-1/cpu_utilization_percentage"
        assert _wait_for(lambda: bool(client.get_metric_history(run.info.run_id, key)))
    with mltrail.start_run(log_system_metrics=False) as quiet:
        time.sleep(0.3)
    assert not any(k.startswith("system/") for k in client.get_run(quiet.info.run_id).data.metrics)
    monkeypatch.delenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
    mltrail.enable_system_metrics_logging()
    with mltrail.start_run() as enabled:
        assert _wait_for(lambda: bool(client.get_metric_history(enabled.info.run_id, key)))
    mltrail.disable_system_metrics_logging()


def test_bad_sampling_settings_are_refused():
    with pytest.raises(mltrail.MltrailException, match="positive number of seconds"):
        mltrail.set_system_metrics_sampling_interval(0)
    with pytest.raises(mltrail.MltrailException, match="at least 1"):
        mltrail.set_system_metrics_samples_before_logging(0)


def test_console_capture_grows_while_running_and_is_complete_at_end(client, capsys, monkeypatch):
    monkeypatch.setattr(console, "UPLOAD_INTERVAL_SECONDS", 0.1)
    console.enable()
    with mltrail.start_run() as run:
        print("epoch 0 loss 1.5")
        assert _wait_for(lambda: "console.log" in artifact_paths(run.info.run_id))
        sys.stderr.write("warning: slow disk\n")
        print("epoch 1 loss 0.7")
    assert "epoch 0 loss 1.5" in capsys.readouterr().out  # the terminal still got it
    with open(client.download_artifacts(run.info.run_id, "console.log")) as fh:
        text = fh.read()
    assert text == "epoch 0 loss 1.5\nwarning: slow disk\nepoch 1 loss 0.7\n"
    print("after the run")
    with open(client.download_artifacts(run.info.run_id, "console.log")) as fh:
        assert "after the run" not in fh.read()


def test_code_capture_records_diff_requirements_and_script(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    script = repo / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import mltrail
            from mltrail.companions import code_capture
            code_capture.enable()
            mltrail.set_tracking_uri("sqlite:///" + __file__.replace("train.py", "t.db"))
            with mltrail.start_run() as run:
                pass
            print(run.info.run_id)
            """
        )
    )

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "add", "train.py")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "first")
    script.write_text(script.read_text() + "# tuned\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    mltrail.set_tracking_uri(f"sqlite:///{repo / 't.db'}")
    client = mltrail.TrailClient()
    run = client.get_run(run_id)
    assert run.data.tags[code_capture.DIRTY_TAG] == "true"
    assert run.data.tags["mlflow.source.git.commit"]
    assert artifact_paths(run_id, "code") == {
        "code/requirements.txt",
        "code/train.py",
        "code/uncommitted.diff",
    }
    with open(client.download_artifacts(run_id, "code/uncommitted.diff")) as fh:
        assert "+# tuned" in fh.read()
    with open(client.download_artifacts(run_id, "code/requirements.txt")) as fh:
        assert any(line.startswith("mltrail==") for line in fh)
