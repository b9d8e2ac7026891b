"""Seed 001 ("mlflow Introduction"), as its reader does it, in a fresh folder with the embedded
default store: a training script written for MLflow (``import mltrail as mlflow``) that opens
and closes runs, logs params, per-step metrics and a PyTorch model; the shell commands
``experiments create/list``, ``runs list/describe``; an MLproject run by ``mltrail run`` and by
``mltrail.projects.run``; the logged model served by ``mltrail models serve`` over real HTTP;
and ``mltrail ui`` showing the runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

pytest.importorskip("torch", reason="needs torch==2.13.0 (the dev extra installs it)")

from e2e_helpers import VENV_BIN, clean_env  # noqa: E402
from live_servers import free_port, wait_for_port  # noqa: E402

pytestmark = pytest.mark.timeout(180)

TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys
    import mltrail as mlflow
    import mltrail.pytorch
    import torch

    mlflow.set_experiment(sys.argv[1])
    mlflow.start_run()
    mlflow.log_param("batch_size", 64)
    for step in range(5):
        loss = 1.0 / (step + 1)
        mlflow.log_metric("train_loss", loss, step)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    mlflow.pytorch.log_model(model, "test_model")
    print("RUN_ID", mlflow.active_run().info.run_id)
    mlflow.end_run()

    with mlflow.start_run() as f:
        mlflow.log_param("batch_size", 32)

    try:
        mlflow.start_run(experiment_id="424242")
    except mlflow.exceptions.MlflowException as err:
        print("NO_EXPERIMENT", err)
    """
)

PROJECT = {
    "MLproject": textwrap.dedent(
        """
        name: myproject
        entry_points:
          main:
            parameters:
              alpha: {type: float, default: 0.5}
              epochs: {type: int, default: 2}
            command: "python train.py --alpha {alpha} --epochs {epochs}"
        """
    ),
    "train.py": textwrap.dedent(
        """
        import argparse
        import mltrail as mlflow

        p = argparse.ArgumentParser()
        p.add_argument("--alpha", type=float)
        p.add_argument("--epochs", type=int)
        a = p.parse_args()
        with mlflow.start_run():
            mlflow.log_param("alpha", a.alpha)
            for epoch in range(a.epochs):
                mlflow.log_metric("loss", a.alpha / (epoch + 1), step=epoch)
        """
    ),
}


def mltrail(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(VENV_BIN / "mltrail"), *args],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder where the reader ran the training script (no tracking URI set)."""
    folder = tmp_path_factory.mktemp("seed001")
    (folder / "train.py").write_text(TRAIN_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "train.py", "intro"],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder / "out.txt").write_text(proc.stdout + proc.stderr)
    return folder


def run_id_of(folder: Path) -> str:
    line = next(x for x in (folder / "out.txt").read_text().splitlines() if x.startswith("RUN_ID"))
    return line.split()[1]


def test_script_logs_into_embedded_store(workdir: Path) -> None:
    assert (workdir / "mltrail.db").exists()
    out = (workdir / "out.txt").read_text()
    assert "NO_EXPERIMENT" in out and "424242" in out

    listed = json.loads(mltrail(workdir, "experiments", "list", "--json").stdout)
    names = {e["name"]: e["experiment_id"] for e in listed["experiments"]}
    assert "intro" in names and "Default" in names

    runs = json.loads(
        mltrail(workdir, "runs", "list", "--experiment-id", names["intro"], "--json").stdout
    )
    assert len(runs["runs"]) == 2
    described = json.loads(
        mltrail(workdir, "runs", "describe", "--run-id", run_id_of(workdir), "--json").stdout
    )
    text = json.dumps(described)
    assert '"batch_size"' in text and '"64"' in text and "train_loss" in text


def test_experiments_create_then_listed(workdir: Path) -> None:
    created = mltrail(workdir, "experiments", "create", "-n", "from-shell")
    assert "from-shell" in created.stdout
    assert "from-shell" in mltrail(workdir, "experiments", "list").stdout
    again = mltrail(workdir, "experiments", "create", "-n", "from-shell", check=False)
    assert again.returncode != 0 and "Traceback" not in again.stderr


def test_metric_history_and_model_load_back(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.chdir(workdir)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mltrail.db'}")

    from mltrail.tracking.client import TrailClient

    client = TrailClient(f"sqlite:///{workdir / 'mltrail.db'}")
    run_id = run_id_of(workdir)
    history = client.get_metric_history(run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]

    import mltrail.pytorch

    model = mltrail.pytorch.load_model(f"runs:/{run_id}/test_model")
    torch.manual_seed(0)
    expected = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    x = torch.ones(2, 4)
    assert torch.allclose(model(x), expected(x))


def test_models_serve_answers_over_http(workdir: Path) -> None:
    import torch

    port = free_port()
    log = open(workdir / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "mltrail"),
            "models",
            "serve",
            "-m",
            f"runs:/{run_id_of(workdir)}/test_model",
            "-p",
            str(port),
            "--env-manager",
            "local",
        ],
        cwd=workdir,
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60, proc=proc)
        url = f"http://127.0.0.1:{port}"
        assert requests.get(url + "/ping", timeout=10).status_code == 200
        rows = [[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]]
        answer = requests.post(url + "/invocations", json={"inputs": rows}, timeout=30)
        assert answer.status_code == 200, answer.text
        torch.manual_seed(0)
        expected = torch.nn.Sequential(
            torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
        )(torch.tensor(rows)).tolist()
        got = answer.json()["predictions"]
        assert len(got) == 2
        for row, want in zip(got, expected, strict=True):
            values = list(row.values()) if isinstance(row, dict) else row
            assert values == pytest.approx(want, abs=1e-5)
        bad = requests.post(
            url + "/invocations",
            data="not json",
            timeout=10,
            headers={"Content-Type": "application/json"},
        )
        assert 400 <= bad.status_code < 500
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_project_run_by_cli_and_api(workdir: Path) -> None:
    project = workdir / "myproject"
    project.mkdir()
    for name, text in PROJECT.items():
        (project / name).write_text(text)
    mltrail(workdir, "run", "./myproject", "-P", "alpha=0.1", "--experiment-name", "proj")
    code = (
        "import mltrail as mlflow\n"
        "sub = mlflow.projects.run('myproject', entry_point='main', "
        "parameters={'alpha': 0.3, 'epochs': 3}, experiment_name='proj')\n"
        "print('STATUS', sub.get_status(), sub.run_id)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "STATUS FINISHED" in proc.stdout

    from mltrail.tracking.client import TrailClient

    client = TrailClient(f"sqlite:///{workdir / 'mltrail.db'}")
    exp = client.get_experiment_by_name("proj")
    runs = client.search_runs([exp.experiment_id], order_by=["params.alpha ASC"])
    assert [r.data.params["alpha"] for r in runs] == ["0.1", "0.3"]
    assert [len(client.get_metric_history(r.info.run_id, "loss")) for r in runs] == [2, 3]


def test_ui_shows_the_runs(workdir: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "mltrail"), "ui", "--port", str(port)],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60, proc=proc)
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "intro" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
