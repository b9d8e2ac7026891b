"""``mltrail run`` as a real subprocess on local projects (env manager local): entry points
with typed parameters, statuses by exit code, output kept, injection attempts, real mlflow
logging into an embedded store, workflows, cancel and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from project_helpers import all_runs, artifact_text, child_env, only_run, write_project

from mltrail.tracking.client import TrailClient

ECHO_ARGS = """\
import json, os, sys
with open(os.environ["ARGS_OUT"], "w") as fh:
    json.dump(sys.argv[1:], fh)
print("hello from", os.environ.get("MLFLOW_PROJECT_ENTRY_POINT"))
"""

MLPROJECT = """\
name: several
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.1}
      epochs: {type: int, default: 3}
      msg: {type: string, default: "hello world"}
      data: {type: path, default: data.txt}
    command: "python echo_args.py --alpha {alpha} --epochs {epochs} --msg {msg} --data {data}"
  evaluate:
    parameters:
      split: string
    command: "python echo_args.py evaluate {split}"
  fail:
    command: "python -c 'import sys; print(\\"about to fail\\"); sys.exit(3)'"
  sleep:
    command: "python -c 'import time; print(\\"sleeping\\", flush=True); time.sleep(60)'"
"""


def make_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", {
        "MLproject": MLPROJECT, "echo_args.py": ECHO_ARGS, "data.txt": "1,2\n",
    })


def test_entry_points_with_typed_parameters(mltrail_run, client: TrailClient,
                                            tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = tmp_path / "args.json"
    done = mltrail_run(str(root), "-P", "alpha=0.5", "-P", "msg=it's", "-P", "seed=7",
                       "--experiment-name", "typed", "--run-name", "first",
                       env={"ARGS_OUT": str(out)})
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == [
        "--alpha", "0.5", "--epochs", "3", "--msg", "it's", "--data", str(root / "data.txt"),
        "--seed", "7",
    ]
    run = only_run(client, "typed")
    assert run.info.status == "FINISHED" and run.info.run_name == "first"
    assert run.data.params == {"alpha": "0.5", "epochs": "3", "msg": "it's",
                               "data": "data.txt", "seed": "7"}
    tags = run.data.tags
    assert tags["mlflow.source.name"] == str(root)
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.project.backend"] == "local"
    assert "mlflow.project.env" not in tags  # MLflow sets none for local
    assert "hello from main" in artifact_text(client, run.info.run_id,
                                              "mltrail-project/output.log")
    assert "hello from main" in done.stdout  # streamed as well as kept

    done = mltrail_run(str(root), "-e", "evaluate", "-P", "split=test", "--experiment-name",
                       "typed", env={"ARGS_OUT": str(out)})
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == ["evaluate", "test"]


def test_bad_parameters_fail_before_any_run(mltrail_run, client: TrailClient,
                                            tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for args, message in [
        (["-P", "epochs=1.5"], "must be an int, got '1.5'"),
        (["-e", "evaluate"], "No value given for the required parameter(s) 'split'"),
        (["-e", "nosuch"], "Unknown entry point 'nosuch'"),
        (["-P", "noequals"], "write it as -P name=value"),
    ]:
        done = mltrail_run(str(root), *args, "--experiment-name", "bad")
        assert done.returncode == 1, done.stderr
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    assert all_runs(client, "bad") == []


def test_failing_command_marks_the_run_failed(mltrail_run, client: TrailClient,
                                              tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = mltrail_run(str(root), "-e", "fail")
    assert done.returncode == 1
    assert "exited with code 3" in done.stderr
    run = only_run(client)
    assert run.info.status == "FAILED"
    assert "about to fail" in artifact_text(client, run.info.run_id,
                                            "mltrail-project/output.log")


def test_shell_syntax_in_parameters_never_runs(mltrail_run, client: TrailClient,
                                               tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = tmp_path / "args.json"
    canary = tmp_path / "canary"
    attempts = [
        f"1; touch {canary}-semicolon",
        f"$(touch {canary}-dollar)",
        f"`touch {canary}-backtick`",
        f"x' && touch {canary}-quote && echo '",
        f"a\ntouch {canary}-newline",
    ]
    extras = [arg for i, value in enumerate(attempts) for arg in ("-P", f"e{i}={value}")]
    done = mltrail_run(str(root), "-P", f"msg={attempts[0]}", *extras,
                       env={"ARGS_OUT": str(out)})
    assert done.returncode == 0, done.stderr
    args = json.loads(out.read_text())
    assert args[args.index("--msg") + 1] == attempts[0]
    for i, value in enumerate(attempts):
        assert args[args.index(f"--e{i}") + 1] == value
    run = only_run(client)
    assert run.data.params["e2"] == attempts[2]  # logged as given, not shell-quoted
    assert not list(tmp_path.glob("canary*"))
    # a key with shell syntax is refused before anything runs
    done = mltrail_run(str(root), "-P", f"x;touch {canary}-key=1")
    assert done.returncode == 1 and "Invalid parameter name" in done.stderr
    assert not list(tmp_path.glob("canary*"))


def test_script_entry_point_in_a_folder_without_mlproject(mltrail_run, client: TrailClient,
                                                          tmp_path: Path) -> None:
    root = write_project(tmp_path / "scripts", {"echo_args.py": ECHO_ARGS})
    out = tmp_path / "args.json"
    done = mltrail_run(str(root), "-e", "echo_args.py", "-P", "lr=0.1",
                       env={"ARGS_OUT": str(out)})
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == ["--lr", "0.1"]
    assert only_run(client).data.tags["mlflow.project.entryPoint"] == "echo_args.py"


REAL_MLFLOW_TRAIN = """\
import os, sys
import mlflow
assert os.environ["MLFLOW_TRACKING_URI"].startswith("http://127.0.0.1:"), os.environ
with mlflow.start_run() as run:
    mlflow.log_param("from_mlflow", "yes")
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("framework", "real-mlflow")
    mlflow.log_text("made by mlflow", "notes/hello.txt")
    print("mlflow run", run.info.run_id)
"""


def test_real_mlflow_logs_into_the_embedded_store(mltrail_run, client: TrailClient,
                                                  tmp_path: Path) -> None:
    check_real_mlflow_project(mltrail_run, client, tmp_path, {})


@pytest.mark.postgres
def test_real_mlflow_logs_into_a_postgresql_store(mltrail_run, pg_uri: str,
                                                  tmp_path: Path) -> None:
    env = {"MLTRAIL_TRACKING_URI": pg_uri, "MLTRAIL_ARTIFACT_ROOT": str(tmp_path / "art")}
    check_real_mlflow_project(mltrail_run, TrailClient(pg_uri), tmp_path, env)


def check_real_mlflow_project(mltrail_run, client: TrailClient, tmp_path: Path,  # type: ignore[no-untyped-def]
                              env: dict[str, str]) -> None:
    root = write_project(tmp_path / "mlf", {
        "MLproject": "name: mlf\nentry_points:\n  main:\n"
                     "    parameters: {epochs: {type: int, default: 2}}\n"
                     "    command: python train.py --epochs {epochs}\n",
        "train.py": REAL_MLFLOW_TRAIN,
    })
    done = mltrail_run(str(root), "--env-manager", "local", "-P", "epochs=4",
                       "--experiment-name", "mlf", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    run = only_run(client, "mlf")
    assert f"mlflow run {run.info.run_id}" in done.stdout
    assert run.info.status == "FINISHED"
    assert run.data.params == {"epochs": "4", "from_mlflow": "yes"}
    assert run.data.tags["framework"] == "real-mlflow"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert artifact_text(client, run.info.run_id, "notes/hello.txt") == "made by mlflow"


WORKFLOW = """\
import mltrail
for split in ("train", "test"):
    submitted = mltrail.projects.run(".", "step", parameters={"split": split},
                                     env_manager="local")
    print("child", split, submitted.run_id, submitted.get_status())
"""


def test_workflow_nests_child_runs(mltrail_run, client: TrailClient, tmp_path: Path) -> None:
    root = write_project(tmp_path / "wf", {
        "MLproject": "entry_points:\n"
                     "  main: {command: python workflow.py}\n"
                     "  step:\n    parameters: {split: string}\n"
                     "    command: python step.py {split}\n",
        "workflow.py": WORKFLOW,
        "step.py": "import sys, mltrail\nwith mltrail.start_run():\n"
                   "    mltrail.log_metric('rows', len(sys.argv[1]))\n",
    })
    done = mltrail_run(str(root), "--experiment-name", "wf")
    assert done.returncode == 0, done.stdout + done.stderr
    runs = {r.data.tags["mlflow.project.entryPoint"] + r.data.params.get("split", ""): r
            for r in all_runs(client, "wf")}
    assert set(runs) == {"main", "steptrain", "steptest"}
    parent = runs["main"].info.run_id
    for key, rows in (("steptrain", 5), ("steptest", 4)):
        child = runs[key]
        assert child.data.tags["mlflow.parentRunId"] == parent
        assert child.info.status == "FINISHED"
        assert child.data.metrics["rows"] == rows
    assert runs["main"].info.status == "FINISHED"


def test_python_api_cancel_marks_killed(store: str, env_cache: Path, tmp_path: Path,
                                        client: TrailClient) -> None:
    root = make_project(tmp_path)
    code = (
        "import sys, time, mltrail\n"
        "s = mltrail.projects.run(sys.argv[1], 'sleep', synchronous=False, quiet=True)\n"
        "time.sleep(1.0); print(s.get_status()); s.cancel(); print(s.get_status())\n"
        "print(s.wait())\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                          text=True, env=child_env(store, env_cache, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ["RUNNING", "KILLED", "False"]
    assert only_run(client).info.status == "KILLED", done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_kill_marks_killed(store: str, env_cache: Path, tmp_path: Path,
                                     client: TrailClient, signum: int) -> None:
    root = make_project(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mltrail", "run", str(root), "-e", "sleep"],
                            env=child_env(store, env_cache, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while "sleeping" not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "KILLED" in err
    assert only_run(client).info.status == "KILLED", err


def test_experiment_id_and_run_id(mltrail_run, client: TrailClient, tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = tmp_path / "args.json"
    done = mltrail_run(str(root), "--experiment-id", "424242", env={"ARGS_OUT": str(out)})
    assert done.returncode == 1 and "No experiment with id 424242" in done.stderr
    assert not out.exists()
    exp_id = client.create_experiment("existing")
    made = client.create_run(exp_id, run_name="made-before")
    done = mltrail_run(str(root), "--experiment-id", exp_id, "--run-id", made.info.run_id,
                       "-P", "epochs=9", env={"ARGS_OUT": str(out)})
    assert done.returncode == 0, done.stderr
    run = client.get_run(made.info.run_id)
    assert run.info.status == "FINISHED" and run.data.params["epochs"] == "9"
    assert run.data.tags["mlflow.project.entryPoint"] == "main"
    assert len(all_runs(client, "existing")) == 1
