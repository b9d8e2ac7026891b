"""``mltrail.projects.run``: fetch a project, check its entry point and parameters, create
the run, get the environment ready and start the command.

Order matters for what a mistake leaves behind:

1. trust, source, MLproject, entry point, parameters: a mistake in what the user typed or
   wrote is one error and **no run** (nothing has happened yet); a source or an environment
   file that is not there is the world's fault, and is recorded as a FAILED run;
2. the run is created, its params and tags logged;
3. the environment is built (a failed install marks the run FAILED, with the installer's
   log as an artifact), and the command starts with the run's variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mltrail.entities import Param
from mltrail.exceptions import MltrailException
from mltrail.projects import envsetup
from mltrail.projects.errors import (
    ExecutionException,
    MissingEnvironmentFile,
    ProjectSpecError,
    SourceError,
)
from mltrail.projects.params import build_command, resolve_parameters
from mltrail.projects.run_client import ProjectClient, open_project_client
from mltrail.projects.sources import ProjectSource, confirm_trust, fetch_project
from mltrail.projects.spec import load_project
from mltrail.projects.submitted import (
    OUTPUT_ARTIFACT_DIR,
    FinishedRun,
    LocalSubmittedRun,
    SubmittedRun,
    _log_as,
)
from mltrail.projects.tracking import (
    BACKEND_TAG,
    DOCKER_IMAGE_TAG,
    ENV_TAG,
    LoopbackServer,
    RunTags,
    child_environment,
    parent_run_id,
    resolve_experiment,
    start_project_run,
)
from mltrail.tracking.uri import default_artifact_root
from mltrail.utils import validation

BACKENDS = ("local", "kubernetes")


def run(
    uri: str = ".",
    entry_point: str = "main",
    version: str | None = None,
    parameters: dict[str, Any] | None = None,
    docker_args: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    backend: str = "local",
    backend_config: dict[str, Any] | str | None = None,
    storage_dir: str | None = None,
    synchronous: bool = True,
    run_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    build_image: bool = False,
    docker_auth: dict[str, Any] | None = None,
    use_conda: bool | None = None,
    trust: bool = False,
    tracking_uri: str | None = None,
    quiet: bool = False,
) -> SubmittedRun:
    """Run an MLproject folder or git repository's entry point as a tracked run.

    With ``synchronous=True`` (the default) this returns when the command ends and raises
    ``ExecutionException`` if it failed; otherwise it returns at once and the returned
    ``SubmittedRun`` reports on it (``wait()``, ``get_status()``, ``cancel()``).
    A project from the network (https://, ssh://, git@...) needs ``trust=True`` or a yes at
    a terminal.
    """
    if backend not in BACKENDS:
        raise ProjectSpecError(
            f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}."
        )
    config = load_backend_config(backend_config)
    if backend == "kubernetes" and config is None:
        raise ProjectSpecError(
            "The kubernetes backend needs a backend config (--backend-config FILE.json) with "
            "'kube-job-template-path'."
        )
    if build_image:
        raise ProjectSpecError(
            "build_image is not supported: mltrail runs a docker_env project in the image as "
            "named, with the project folder mounted; build and push an image yourself."
        )
    if docker_auth:
        raise ProjectSpecError(
            "docker_auth is not supported: log in with `docker login` before running."
        )
    if use_conda is False and env_manager is None:
        env_manager = "local"
    confirm_trust(uri, trust)
    client = open_project_client(tracking_uri, backend)
    parent = parent_run_id() if run_id is None else None

    try:
        source = fetch_project(uri, version)
    except SourceError as exc:
        _record_failure(client, experiment_name, experiment_id, run_id, run_name,
                        RunTags(uri, entry_point, version=version, parent=parent), exc)
        raise
    tags = RunTags(source.source_name, entry_point, source.commit, source.repo_url,
                   source.branch, version, parent)
    try:
        spec = load_project(source.root)
    except MissingEnvironmentFile as exc:
        _record_failure(client, experiment_name, experiment_id, run_id, run_name, tags, exc)
        raise
    for warning in spec.warnings:
        _say(f"warning: {warning}", quiet)
    entry = spec.entry_point(entry_point)
    resolved = resolve_parameters(entry, dict(parameters or {}), spec.root,
                                  storage_dir=storage_dir)
    command = build_command(entry, resolved)
    plan = envsetup.choose_manager(spec, env_manager)
    exp_id = resolve_experiment(client, experiment_name, experiment_id)

    run_obj = start_project_run(client, exp_id, tags, run_name, run_id)
    rid = run_obj.info.run_id
    try:
        params = [
            Param(validation.validate_key(k, "param key"), validation.param_value_str(k, v))
            for k, v in resolved.logged.items()
        ]
        extra_tags = {BACKEND_TAG: backend}
        if plan.tag_value:
            extra_tags[ENV_TAG] = plan.tag_value
        if plan.manager == "docker":
            extra_tags[DOCKER_IMAGE_TAG] = spec.env_value.image
        _log_batch(client, rid, params, extra_tags)
    except MltrailException:
        client.set_terminated(rid, "FAILED")
        raise
    _say(f"=== Run {rid} of {source.source_name} (entry point {entry.name}) ===", quiet)

    if backend == "kubernetes":
        from mltrail.projects.kubernetes import submit_kubernetes

        return submit_kubernetes(client, run_obj, spec, entry.name, command, config or {},
                                 synchronous)

    tracking = client.tracking_uri
    loopback = None
    if not tracking.startswith(("http://", "https://")):
        # A database store (SQLite, PostgreSQL, MySQL) has mltrail's schema, which the real
        # mlflow client cannot use: it gets the store through mltrail's server instead.
        loopback = LoopbackServer(tracking, default_artifact_root(tracking)).start()
    try:
        prepared = envsetup.prepare(spec, plan, quiet=quiet)
        if prepared is not None:
            for warning in prepared.warnings:
                _say(f"warning: {warning}", quiet)
            if prepared.cached:
                _say(f"using cached environment {prepared.env_dir}", quiet)
        mlflow_uri = loopback.wait_ready() if loopback is not None else tracking
        env = child_environment(dict(os.environ), run_obj, tracking, mlflow_uri, entry.name)
        if prepared is not None:
            env = prepared.activation_env(env)
        elif plan.manager == "local" and sys.prefix != sys.base_prefix:
            # Run from a virtualenv that is not activated: `python` in the command should be
            # the interpreter running mltrail, not whatever PATH finds first.
            env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        argv = _command_argv(plan.manager, spec, source, command, env, run_obj, tracking,
                             docker_args, loopback is not None)
        log_dir = Path(tempfile.mkdtemp(prefix=f"mltrail-run-{rid[:8]}-"))
        extra_logs = {"environment.log": str(prepared.log_path)} if prepared else {}
        _say(f"=== Running command in {spec.root}: {command} ===", quiet)
        proc = subprocess.Popen(
            argv,
            cwd=str(spec.root),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except BaseException as exc:
        _fail_before_start(client, rid, exc)
        if loopback is not None:
            loopback.stop()
        if isinstance(exc, MltrailException):
            raise ExecutionException(f"Run {rid} failed: {exc.message}") from None
        raise
    # From here on a Ctrl-C (or SIGTERM) at any point stops the command and ends the run KILLED.
    submitted: LocalSubmittedRun | None = None
    try:
        submitted = LocalSubmittedRun(
            rid, proc, client, str(log_dir / "output.log"), extra_logs,
            on_end=loopback.stop if loopback is not None else (lambda: None),
        )
        if not synchronous:
            return submitted
        succeeded = submitted.wait()
    except BaseException as exc:
        if submitted is not None:
            submitted.cancel()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            _fail_before_start(client, rid, exc)
            if loopback is not None:
                loopback.stop()
        raise
    if not succeeded:
        raise ExecutionException(
            f"Run {rid} failed: the command exited with code {submitted.exit_code}; its "
            f"output is kept as the artifact {OUTPUT_ARTIFACT_DIR}/output.log."
        )
    _say(f"=== Run {rid} succeeded ===", quiet)
    return submitted


def load_backend_config(value: dict[str, Any] | str | None) -> dict[str, Any] | None:
    """A dict, the path of a JSON file, or an inline JSON string."""
    if value is None or isinstance(value, dict):
        return value
    text = value
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as fh:
            text = fh.read()
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ProjectSpecError(
            f"The backend config {value!r} is neither a JSON file nor valid JSON: {exc}."
        ) from None
    if not isinstance(parsed, dict):
        raise ProjectSpecError("The backend config must be a JSON object.")
    return parsed


def _command_argv(
    manager: str,
    spec: Any,
    source: ProjectSource,
    command: str,
    env: dict[str, str],
    run_obj: Any,
    tracking: str,
    docker_args: dict[str, Any] | None,
    loopback: bool,
) -> list[str]:
    if manager != "docker":
        return ["bash", "-c", command]
    from mltrail.environments.docker import docker_run_argv, require_docker

    require_docker()
    run_env = {k: env[k] for k in env if k.startswith(("MLFLOW_", "MLTRAIL_"))
               and k in ("MLFLOW_RUN_ID", "MLTRAIL_RUN_ID", "MLFLOW_TRACKING_URI",
                         "MLTRAIL_TRACKING_URI", "MLFLOW_EXPERIMENT_ID",
                         "MLTRAIL_EXPERIMENT_ID")}
    extra = docker_arg_words(docker_args)
    if loopback:
        extra = ["--network", "host", *extra]
    artifact_dir = run_obj.info.artifact_uri if os.path.isabs(run_obj.info.artifact_uri) else None
    return docker_run_argv(spec.env_value, str(spec.root), command, run_env, tracking,
                           artifact_dir, extra)


def docker_arg_words(docker_args: dict[str, Any] | None) -> list[str]:
    """MLflow's ``-A name=value`` / ``-A name``: ``-x`` for one letter, ``--name`` else."""
    words: list[str] = []
    for name, value in (docker_args or {}).items():
        flag = f"-{name}" if len(name) == 1 else f"--{name}"
        words.append(flag)
        if value is not None and value is not True and value != "":
            words.append(str(value))
    return words


def _log_batch(
    client: ProjectClient, run_id: str, params: list[Param], tags: dict[str, str]
) -> None:
    from mltrail.entities import RunTag

    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start : start + 100])
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])


def _fail_before_start(client: ProjectClient, run_id: str, exc: BaseException) -> None:
    log_path = getattr(exc, "log_path", None)
    try:
        if log_path and os.path.exists(log_path):
            _log_as(client, run_id, log_path, "environment.log")
        if isinstance(exc, MltrailException):
            with tempfile.TemporaryDirectory() as tmp:
                error_file = os.path.join(tmp, "error.txt")
                with open(error_file, "w", encoding="utf-8") as fh:
                    fh.write(exc.message + "\n")
                client.log_artifact(run_id, error_file, OUTPUT_ARTIFACT_DIR)
    finally:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        client.set_terminated(run_id, status)


def _record_failure(
    client: ProjectClient,
    experiment_name: str | None,
    experiment_id: str | None,
    run_id: str | None,
    run_name: str | None,
    tags: RunTags,
    exc: MltrailException,
) -> None:
    """A source or environment file that is not there still leaves a FAILED run saying so."""
    try:
        exp_id = resolve_experiment(client, experiment_name, experiment_id)
        run_obj = start_project_run(client, exp_id, tags, run_name, run_id)
        _fail_before_start(client, run_obj.info.run_id, exc)
        exc.message = f"Run {run_obj.info.run_id} failed: {exc.message}"
        exc.args = (exc.message,)
    except MltrailException:
        pass  # the original error is the one to report


def _say(text: str, quiet: bool) -> None:
    if not quiet and not os.environ.get("MLTRAIL_QUIET"):
        sys.stderr.write(f"mltrail: {text}\n")
        sys.stderr.flush()


__all__ = ["FinishedRun", "SubmittedRun", "load_backend_config", "run"]
