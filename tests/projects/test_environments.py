"""Environments through ``mltrail run``: a seed-shaped python_env project built with uv and
then reused from the cache, a failing install, a Python that is not there, and the clear
errors of conda and docker where neither exists (the docker command line is checked as
built), plus the rendered Kubernetes Job."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from project_helpers import all_runs, artifact_text, only_run, write_project

from mltrail.environments.docker import docker_env_from_dict, docker_run_argv
from mltrail.projects.kubernetes import render_job
from mltrail.projects.runner import docker_arg_words
from mltrail.tracking.client import TrailClient

SEED_TRAIN = """\
import argparse, json, os, sys
import six  # from requirements.txt
import mltrail
parser = argparse.ArgumentParser()
parser.add_argument("--max_epochs", type=int)
parser.add_argument("--strategy")
args = parser.parse_args()
with mltrail.start_run() as run:
    for epoch in range(args.max_epochs):
        mltrail.log_metric("val_loss", 1.0 / (epoch + 1), step=epoch)
    mltrail.set_tag("strategy_seen", repr(args.strategy))
print("python", sys.executable)
"""


def seed_project(tmp_path: Path, requirements: str = "six\n") -> Path:
    return write_project(tmp_path / "pytorch_example", {
        "MLproject": "name: mnist-autolog-example\npython_env: python_env.yaml\n"
                     "entry_points:\n  main:\n    parameters:\n"
                     "      max_epochs: {type: int, default: 5}\n"
                     "      strategy: {type str, default: \"None\"}\n"
                     "    command: |\n"
                     "          python train.py \\\n"
                     "            --max_epochs {max_epochs} \\\n"
                     "            --strategy {strategy}\n",
        "python_env.yaml": "python: \"3.11\"\nbuild_dependencies:\n  - pip\n"
                           "dependencies:\n  - -r requirements.txt\n",
        "requirements.txt": requirements,
        "train.py": SEED_TRAIN,
    })


def test_python_env_with_uv_then_from_the_cache(mltrail_run, client: TrailClient,
                                                tmp_path: Path, env_cache: Path) -> None:
    root = seed_project(tmp_path)
    first = mltrail_run(".", "-P", "max_epochs=3", "--experiment-name", "seed", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "missing a colon after 'type'" in first.stderr
    assert "installing dependencies and mltrail" in first.stderr  # progress is shown
    env_python = first.stdout.split("python ", 1)[1].split()[0]
    assert env_python.startswith(str(env_cache))

    second = mltrail_run(".", "-P", "max_epochs=2", "--experiment-name", "seed", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "using cached environment" in second.stderr
    assert "installing dependencies" not in second.stderr
    assert second.stdout.split("python ", 1)[1].split()[0] == env_python

    runs = all_runs(client, "seed")
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    for run in runs:
        assert run.data.tags["mlflow.project.env"] == "uv"
        assert run.data.tags["strategy_seen"] == "'None'"
        steps = int(run.data.params["max_epochs"])
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert [m.step for m in history] == list(range(steps))
        log = artifact_text(client, run.info.run_id, "mltrail-project/environment.log")
        assert "uv" in log and "six" in log


def test_failing_install_marks_the_run_failed_with_the_installer_output(
    mltrail_run, client: TrailClient, tmp_path: Path
) -> None:
    root = seed_project(tmp_path, requirements="mltrail-test-no-such-package-zz==0.0.1\n")
    done = mltrail_run(".", "--experiment-name", "broken", cwd=root)
    assert done.returncode == 1
    assert "Installing the dependencies failed" in done.stderr
    assert "mltrail-test-no-such-package-zz" in done.stderr  # uv's own words come along
    assert "Traceback" not in done.stderr
    run = only_run(client, "broken")
    assert run.info.status == "FAILED"
    log = artifact_text(client, run.info.run_id, "mltrail-project/environment.log")
    assert "mltrail-test-no-such-package-zz" in log


def test_missing_python_version_lists_the_available_ones(mltrail_run, client: TrailClient,
                                                         tmp_path: Path) -> None:
    root = seed_project(tmp_path)
    (root / "python_env.yaml").write_text("python: \"3.4\"\n")
    done = mltrail_run(".", "--experiment-name", "old", cwd=root,
                       env={"MLTRAIL_PYTHON_DOWNLOADS": "never"})
    assert done.returncode == 1
    assert "Python 3.4 is not available on this machine" in done.stderr
    assert "Available versions: " in done.stderr and "3.11" in done.stderr
    assert only_run(client, "old").info.status == "FAILED"


def test_missing_environment_file_is_a_failed_run(mltrail_run, client: TrailClient,
                                                  tmp_path: Path) -> None:
    root = seed_project(tmp_path)
    (root / "python_env.yaml").unlink()
    done = mltrail_run(".", "--experiment-name", "noenv", cwd=root)
    assert done.returncode == 1 and "python_env.yaml" in done.stderr
    assert only_run(client, "noenv").info.status == "FAILED"


def test_conda_without_conda_is_a_clear_error(mltrail_run, client: TrailClient,
                                              tmp_path: Path) -> None:
    if shutil.which("conda"):
        pytest.skip("a conda executable exists here")
    root = write_project(tmp_path / "c", {
        "MLproject": "name: c\nconda_env: conda.yaml\nentry_points:\n"
                     "  main: {command: python -c 'print(1)'}\n"
                     "  other: {command: python -c 'print(2)'}\n",
        "conda.yaml": "name: c\ndependencies:\n  - python=3.11\n  - pip\n  - pip: [six]\n",
    })
    done = mltrail_run(str(root), "-e", "other", "--experiment-name", "conda",
                       env={"PATH": os.path.dirname(shutil.which("git") or "/usr/bin/git")})
    assert done.returncode == 1
    assert "Could not find a conda executable" in done.stderr
    assert "--env-manager uv" in done.stderr
    assert only_run(client, "conda").info.status == "FAILED"
    # the old spelling runs it here and now
    done = mltrail_run(str(root), "-e", "other", "--no-conda", "--experiment-name", "conda")
    assert done.returncode == 0 and done.stdout.strip().endswith("2")


DOCKER_MLPROJECT = """\
name: docker-example
docker_env:
  image: mlflow-docker-example:7.0
  volumes: ["/data/in:/mnt/in"]
  environment: [["NEW_VAR", "new value"], "COPIED_VAR"]
entry_points:
  main:
    parameters: {alpha: {type: float, default: 0.5}}
    command: "python train.py --alpha {alpha}"
"""


def test_docker_command_line_and_clear_error_without_an_engine(
    mltrail_run, client: TrailClient, tmp_path: Path
) -> None:
    spec = docker_env_from_dict(yaml.safe_load(DOCKER_MLPROJECT)["docker_env"])
    argv = docker_run_argv(
        spec, "/work/proj", "python train.py --alpha '1; rm -rf /'",
        {"MLFLOW_RUN_ID": "abc", "MLFLOW_TRACKING_URI": "sqlite:////srv/db/mltrail.db",
         "MLFLOW_EXPERIMENT_ID": "1"},
        "sqlite:////srv/db/mltrail.db", artifact_dir="/srv/db/mltrail-artifacts",
        docker_args=["--gpus", "all"], host_env={"COPIED_VAR": "from host",
                                                 "AWS_ACCESS_KEY_ID": "AK"},
    )
    assert argv[:5] == ["docker", "run", "--rm", "--gpus", "all"]
    pairs = list(zip(argv, argv[1:], strict=False))
    for flag, value in [
        ("-v", "/work/proj:/mlflow/projects/code"), ("-w", "/mlflow/projects/code"),
        ("-v", "/srv/db:/srv/db"), ("-v", "/srv/db/mltrail-artifacts:/srv/db/mltrail-artifacts"),
        ("-v", "/data/in:/mnt/in"), ("-e", "MLFLOW_RUN_ID=abc"), ("-e", "MLFLOW_EXPERIMENT_ID=1"),
        ("-e", "MLFLOW_TRACKING_URI=sqlite:////srv/db/mltrail.db"),
        ("-e", "NEW_VAR=new value"), ("-e", "COPIED_VAR=from host"),
        ("-e", "AWS_ACCESS_KEY_ID=AK"),
    ]:
        assert (flag, value) in pairs
    assert docker_arg_words({"gpus": "all", "t": None, "shm-size": "1g"}) == [
        "--gpus", "all", "-t", "--shm-size", "1g"]
    # the command is one argument of bash -c, after the image
    assert argv[-4:] == ["mlflow-docker-example:7.0", "bash", "-c",
                         "python train.py --alpha '1; rm -rf /'"]

    root = write_project(tmp_path / "d", {"MLproject": DOCKER_MLPROJECT})
    done = mltrail_run(str(root), "--experiment-name", "docker", env={"COPIED_VAR": "x"})
    assert done.returncode == 1
    assert "docker" in done.stderr.lower() and "Traceback" not in done.stderr
    run = only_run(client, "docker")
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.project.env"] == "docker"
    assert run.data.tags["mlflow.docker.image.uri"] == "mlflow-docker-example:7.0"


JOB_TEMPLATE = """\
apiVersion: batch/v1
kind: Job
metadata: {name: placeholder, namespace: mlflow, labels: {team: vision}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: placeholder
          image: placeholder
          command: ["placeholder"]
          env: [{name: KEEP, value: "1"}]
          resources: {limits: {memory: 1Gi}}
"""


def test_kubernetes_job_is_rendered_and_kept_when_no_cluster(
    mltrail_run, client: TrailClient, tmp_path: Path
) -> None:
    template = yaml.safe_load(JOB_TEMPLATE)
    job = render_job(template, "Docker Example", "repo/img:abc1234",
                     "python train.py --alpha '1; echo x'", {"MLFLOW_RUN_ID": "r1"})
    assert job["metadata"]["name"].startswith("docker-example-")
    assert job["metadata"]["namespace"] == "mlflow"
    assert job["metadata"]["labels"] == {"team": "vision"}
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "docker-example" and container["image"] == "repo/img:abc1234"
    assert container["command"] == ["python", "train.py", "--alpha", "1; echo x"]
    assert container["env"] == [{"name": "KEEP", "value": "1"},
                                {"name": "MLFLOW_RUN_ID", "value": "r1"}]
    assert container["resources"] == {"limits": {"memory": "1Gi"}}
    assert template["metadata"]["name"] == "placeholder"  # the template is not changed

    root = write_project(tmp_path / "k", {"MLproject": DOCKER_MLPROJECT,
                                          "job.yaml": JOB_TEMPLATE})
    config = json.dumps({"kube-job-template-path": str(root / "job.yaml"),
                         "repository-uri": "registry.example/proj"})
    done = mltrail_run(str(root), "-b", "kubernetes", "--backend-config", config,
                       "-P", "alpha=0.25", "--experiment-name", "k8s",
                       env={"KUBE_MLFLOW_TRACKING_URI": "http://tracking.svc:5000",
                            "KUBECONFIG": str(tmp_path / "no-kubeconfig")})
    assert done.returncode == 1
    assert ("No Kubernetes cluster is configured" in done.stderr
            or "needs the Kubernetes Python client" in done.stderr), done.stderr
    run = only_run(client, "k8s")
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.project.backend"] == "kubernetes"
    kept = yaml.safe_load(artifact_text(client, run.info.run_id, "mltrail-project/job.yaml"))
    container = kept["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/proj:latest"
    assert container["command"] == ["python", "train.py", "--alpha", "0.25"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLFLOW_RUN_ID"] == run.info.run_id
    assert env["MLFLOW_TRACKING_URI"] == "http://tracking.svc:5000"
    assert env["MLFLOW_EXPERIMENT_ID"] == run.info.experiment_id

    done = mltrail_run(str(root), "-b", "kubernetes", "--experiment-name", "k8s2")
    assert done.returncode == 1 and "needs a backend config" in done.stderr
    assert all_runs(client, "k8s2") == []


def test_a_regular_install_of_mltrail_is_copied_into_the_environment(tmp_path: Path) -> None:
    """mltrail is not on an index: an environment gets the caller's own installed files,
    packed back into a wheel (here the caller is a non-editable install in a fresh venv)."""
    import subprocess
    import sys

    from mltrail.environments.tools import uv_executable

    uv = uv_executable()
    assert uv is not None
    source = Path(__file__).resolve().parents[2]
    caller = tmp_path / "caller"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(caller)], check=True)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(caller / "bin" / "python"),
                    str(source)], check=True, capture_output=True)
    spec = write_project(tmp_path / "p", {"python_env.yaml": "dependencies: []\n"})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env["MLTRAIL_ENV_CACHE"] = str(tmp_path / "cache")
    env["MLTRAIL_UV"] = uv  # the caller's venv has no uv of its own (the [projects] extra)
    done = subprocess.run(
        [str(caller / "bin" / "python"), "-c",
         "import sys; from mltrail.environments import prepare_python_env;"
         "print(prepare_python_env(sys.argv[1], quiet=True))", str(spec / "python_env.yaml")],
        capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
    )
    python = done.stdout.strip().splitlines()[-1]
    assert python.startswith(str(tmp_path / "cache"))
    where = subprocess.run([python, "-c", "import mltrail; print(mltrail.__file__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    # its own copy, inside the new environment, not the caller's nor the source tree
    assert where.startswith(str(Path(python).parent.parent)), where
    assert list((tmp_path / "cache" / "wheels").glob("*/mltrail-*.whl"))
