"""Project environments: ``mltrail run`` (uv) against ``mlflow run --env-manager virtualenv``
on the same python_env project, first run (no environment yet) and cached (second run).

    .venv/bin/python benchmarks/projects_bench.py            # 2 first + 3 cached runs each
    .venv/bin/python benchmarks/projects_bench.py --quick    # 1 + 1, to check it works
    .venv/bin/python benchmarks/projects_bench.py --json out.json

MLflow runs from its own virtualenv (``MLFLOW_BENCH_VENV``, default /tmp/mlflow-bench, made
on first use with ``pip install mlflow virtualenv``). Its virtualenv manager needs pyenv for
python_env; the project asks for this interpreter's exact version, which pyenv already has
here, so MLflow's ``pyenv install --skip-existing`` has nothing to download.

What is timed, wall clock, each command a fresh process:
* "first": the whole ``run`` command with an empty environment folder (``MLTRAIL_ENV_CACHE``
  / ``MLFLOW_ENV_ROOT``). Package downloads are already cached for both (uv's and pip's
  caches are warmed by an untimed run), so this is environment creation, not the network.
* "cached": the same command again with that folder kept.
* "to command start": from launching ``run`` to the moment the project's command starts (it
  prints ``time.time()`` first thing), so the command's own work and the bookkeeping after it
  are left out: this is how long a user waits for an environment, first and cached.
* "env only": the environment call alone (``build_python_env`` / MLflow's
  ``_create_virtualenv``), first and cached, timed inside a fresh process after its imports.
The project's command is ``python -c "import six"``, so the command itself costs ~30 ms.
mltrail's environment also gets mltrail and its dependencies (~40 packages) installed, so the
project's code can log; MLflow's gets only the project's requirements.

Both tools run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` is removed from their
environment), as an installed tool has it: otherwise an editable mltrail would recompile its
own modules on every start while MLflow's installed ``.pyc`` files are used. The untimed warm
runs write those caches. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MLFLOW_VENV = os.environ.get("MLFLOW_BENCH_VENV", "/tmp/mlflow-bench")
PYENV_BIN = os.path.expanduser("~/.pyenv/bin")
PYENV_SHIMS = os.path.expanduser("~/.pyenv/shims")


def make_project(folder: Path) -> Path:
    version = ".".join(str(x) for x in sys.version_info[:3])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLproject").write_text(
        "name: bench\npython_env: python_env.yaml\nentry_points:\n"
        "  main:\n    parameters: {n: {type: int, default: 1}}\n"
        "    command: \"python -c 'import time; print(\\\"started\\\", time.time()); "
        "import six; print(six.__version__)' {n}\"\n"
    )
    (folder / "python_env.yaml").write_text(
        f'python: "{version}"\ndependencies:\n  - -r requirements.txt\n'
    )
    (folder / "requirements.txt").write_text("six\n")
    return folder


def mlflow_python() -> str | None:
    python = os.path.join(MLFLOW_VENV, "bin", "python")
    ok = os.path.exists(python) and subprocess.run(
        [python, "-c", "import mlflow, virtualenv"], capture_output=True, check=False
    ).returncode == 0
    if not ok:
        sys.stderr.write(f"Creating {MLFLOW_VENV} with MLflow and virtualenv...\n")
        if not os.path.exists(python):
            subprocess.run([sys.executable, "-m", "venv", MLFLOW_VENV], check=True)
        done = subprocess.run([python, "-m", "pip", "install", "-q", "mlflow", "virtualenv"],
                              check=False)
        if done.returncode != 0:
            return None
    return python


# The environment step alone, timed inside a fresh process after its imports; the process
# prints that time on its last line.
MLTRAIL_ENV_ONLY = """
import sys, time
from mltrail.environments import build_python_env, load_python_env
started = time.perf_counter()
build_python_env(load_python_env(sys.argv[1]), env_manager="uv", quiet=True)
print(time.perf_counter() - started)
"""
MLFLOW_ENV_ONLY = """
import sys, time
from pathlib import Path
from mlflow.utils.environment import _PythonEnv
from mlflow.utils.virtualenv import (
    _create_virtualenv, _get_mlflow_virtualenv_root, _get_virtualenv_name)
started = time.perf_counter()
work = Path(sys.argv[1])
python_env = _PythonEnv.from_yaml(str(work / "python_env.yaml"))
env_dir = Path(_get_mlflow_virtualenv_root()) / _get_virtualenv_name(python_env, work)
_create_virtualenv(local_model_path=work, python_env=python_env, env_dir=env_dir,
                   env_manager=sys.argv[2], capture_output=True)
print(time.perf_counter() - started)
"""


def run_checked(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    return run_checked(argv, env, cwd)[0]


def timed_start(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(whole command, launch to the project's command starting), in seconds."""
    launched = time.time()
    elapsed, out = run_checked(argv, env, cwd)
    started = [float(line.split()[1]) for line in out.splitlines() if line.startswith("started ")]
    if not started:
        raise RuntimeError(f"{' '.join(argv)}: the command's start time is missing:\n{out}")
    return elapsed, started[-1] - launched


def add_run(result: dict[str, list[float]], kind: str, times: tuple[float, float]) -> None:
    result[kind].append(times[0])
    result[f"start_{kind}"].append(times[1])


def inner(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """The time the process measured itself (its last line)."""
    return float(run_checked(argv, env, cwd)[1].strip().splitlines()[-1])


def base_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "MLTRAIL_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "1", "MLTRAIL_QUIET": "1",
                "MLFLOW_DISABLE_TELEMETRY": "true"})
    env["PATH"] = os.pathsep.join([PYENV_BIN, PYENV_SHIMS, env.get("PATH", "")])
    return env


def bench_mltrail(project: Path, work: Path, firsts: int, cached: int) -> dict[str, Any]:
    env = base_env(work)
    env["MLTRAIL_TRACKING_URI"] = "sqlite:///" + str(work / "mltrail.db")
    argv = [sys.executable, "-m", "mltrail", "run", str(project), "-q"]
    env_only = [sys.executable, "-c", MLTRAIL_ENV_ONLY, str(project / "python_env.yaml")]
    warm = dict(env, MLTRAIL_ENV_CACHE=str(work / "warm"))
    timed(argv, warm, work)  # fills uv's package cache; not timed
    result: dict[str, list[float]] = {"first": [], "cached": [], "env_first": [],
                                      "env_cached": [], "start_first": [], "start_cached": []}
    for i in range(firsts):
        cache = dict(env, MLTRAIL_ENV_CACHE=str(work / f"envs-{i}"))
        add_run(result, "first", timed_start(argv, cache, work))
        fresh = dict(env, MLTRAIL_ENV_CACHE=str(work / f"envonly-{i}"))
        result["env_first"].append(inner(env_only, fresh, work))
    cache = dict(env, MLTRAIL_ENV_CACHE=str(work / "envs-0"))
    for _ in range(cached):
        add_run(result, "cached", timed_start(argv, cache, work))
        result["env_cached"].append(inner(env_only, dict(env, MLTRAIL_ENV_CACHE=str(
            work / "envonly-0")), work))
    return result


def bench_mlflow(project: Path, work: Path, firsts: int, cached: int) -> dict[str, Any]:
    python = mlflow_python()
    if python is None:
        return {"error": "MLflow could not be installed"}
    env = base_env(work)
    env["MLFLOW_TRACKING_URI"] = "sqlite:///" + str(work / "mlflow.db")
    mlflow_bin = os.path.join(os.path.dirname(python), "mlflow")
    argv = [mlflow_bin, "run", str(project), "--env-manager", "virtualenv"]
    try:
        timed(argv, dict(env, MLFLOW_ENV_ROOT=str(work / "mlf-warm")), work)
    except RuntimeError as exc:
        return {"error": str(exc)[-2000:]}
    result: dict[str, list[float]] = {"first": [], "cached": [], "env_first": [],
                                      "env_cached": [], "start_first": [], "start_cached": [],
                                      "uv_env_first": [], "uv_env_cached": []}
    env_only = [python, "-c", MLFLOW_ENV_ONLY, str(project)]
    for i in range(firsts):
        add_run(result, "first", timed_start(
            argv, dict(env, MLFLOW_ENV_ROOT=str(work / f"mlf-envs-{i}")), work))
        result["env_first"].append(inner([*env_only, "virtualenv"], dict(
            env, MLFLOW_ENV_ROOT=str(work / f"mlf-envonly-{i}")), work))
        with contextlib.suppress(RuntimeError):  # MLflow's own uv manager, where it works
            result["uv_env_first"].append(inner([*env_only, "uv"], dict(
                env, MLFLOW_ENV_ROOT=str(work / f"mlf-uvonly-{i}")), work))
    for _ in range(cached):
        add_run(result, "cached", timed_start(
            argv, dict(env, MLFLOW_ENV_ROOT=str(work / "mlf-envs-0")), work))
        result["env_cached"].append(inner([*env_only, "virtualenv"], dict(
            env, MLFLOW_ENV_ROOT=str(work / "mlf-envonly-0")), work))
        if result["uv_env_first"]:
            result["uv_env_cached"].append(inner([*env_only, "uv"], dict(
                env, MLFLOW_ENV_ROOT=str(work / "mlf-uvonly-0")), work))
    version = subprocess.run([python, "-c", "import mlflow; print(mlflow.__version__)"],
                             capture_output=True, text=True, check=False).stdout.strip()
    result["version"] = version  # type: ignore[assignment]
    return result


def report(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    print(f"\nProject environments (python_env + requirements.txt), medians of "
          f"{len(ours['first'])} new / {len(ours['cached'])} cached")
    print(f"{'':40} {'mltrail (uv)':>13} {'MLflow (virtualenv)':>20} {'ratio':>7}")
    rows = (
        ("start_first", "launch to command start, new env"),
        ("start_cached", "launch to command start, cached env"),
        ("first", "`run` command, new environment"),
        ("cached", "`run` command, cached environment"),
        ("env_first", "environment step only, new"),
        ("env_cached", "environment step only, cached"),
    )
    for key, label in rows:
        mine = med(ours[key])
        if "error" in theirs:
            print(f"{label:40} {mine:>12.3f}s {'n/a':>20}")
            continue
        other = med(theirs[key])
        print(f"{label:40} {mine:>12.3f}s {other:>19.3f}s {other / mine:>6.1f}x")
    if "error" in theirs:
        print(f"\nMLflow could not be measured: {theirs['error']}")
        return
    if theirs.get("uv_env_first"):
        print(f"(MLflow's own --env-manager uv, environment step only: new "
              f"{med(theirs['uv_env_first']):.3f}s, cached {med(theirs['uv_env_cached']):.3f}s)")
    print(f"\nMLflow {theirs.get('version')} from {MLFLOW_VENV}. `run` rows: wall clock of the "
          "whole command in a fresh process; 'launch to command start': until the project's "
          "command prints its first line; environment rows: the environment call timed "
          "inside a fresh process, after its imports. Ratio: MLflow's time / mltrail's.")
    print(f"Load average at the end: {load_average()}")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args()
    firsts, cached = (1, 1) if args.quick else (2, 3)
    work = Path(tempfile.mkdtemp(prefix="projects-bench-"))
    try:
        print(f"Load average before: {load_average()}", file=sys.stderr)
        project = make_project(work / "project")
        ours = bench_mltrail(project, work, firsts, cached)
        theirs = bench_mlflow(project, work, firsts, cached)
        report(ours, theirs)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps({"mltrail": ours, "mlflow": theirs,
                                                       "load": load_average()},
                                                      indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
