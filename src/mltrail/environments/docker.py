"""``docker_env``: the ``docker run`` command line a project runs with.

Nothing here builds images. The command mounts the project at ``/mlflow/projects/code`` (its
working directory), the declared volumes, a local tracking store and artifact folder at their
own paths (so the same URIs work inside), and passes the run's variables, the declared
environment (names copied from the host, pairs set) and cloud credentials that are set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail.environments.errors import EnvironmentSpecError, ToolNotFound

CONTAINER_PROJECT_DIR = "/mlflow/projects/code"

# Forwarded when set on the host, as MLflow does, so artifact stores keep working inside.
_FORWARDED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "MLFLOW_S3_ENDPOINT_URL",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCESS_KEY",
)


@dataclass(frozen=True)
class DockerEnv:
    image: str
    volumes: tuple[str, ...] = ()
    copy_env: tuple[str, ...] = ()
    set_env: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def docker_env_from_dict(data: object, source: str = "MLproject") -> DockerEnv:
    if not isinstance(data, dict) or not data.get("image"):
        raise EnvironmentSpecError(
            f"{source}: docker_env needs an 'image' (e.g. docker_env: {{image: python:3.11}})."
        )
    volumes = data.get("volumes") or []
    if not isinstance(volumes, list) or not all(isinstance(v, str) for v in volumes):
        raise EnvironmentSpecError(
            f"{source}: docker_env 'volumes' must be a list of \"host:container\" strings."
        )
    copy_env: list[str] = []
    set_env: list[tuple[str, str]] = []
    for item in data.get("environment") or []:
        if isinstance(item, str):
            copy_env.append(item)
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            set_env.append((item[0], str(item[1])))
        else:
            raise EnvironmentSpecError(
                f"{source}: each docker_env 'environment' item is a variable name to copy or "
                f"a [NAME, value] pair; got {item!r}."
            )
    return DockerEnv(str(data["image"]), tuple(volumes), tuple(copy_env), tuple(set_env))


def docker_run_argv(
    spec: DockerEnv,
    project_dir: str,
    command: str,
    run_env: Mapping[str, str],
    tracking_uri: str,
    artifact_dir: str | None = None,
    docker_args: Sequence[str] = (),
    host_env: Mapping[str, str] | None = None,
) -> list[str]:
    """The full argv of ``docker run`` for ``command`` (a shell command, run by bash -c)."""
    host = os.environ if host_env is None else host_env
    argv = ["docker", "run", "--rm", *docker_args]
    argv += ["-v", f"{os.path.abspath(project_dir)}:{CONTAINER_PROJECT_DIR}"]
    argv += ["-w", CONTAINER_PROJECT_DIR]
    if tracking_uri.startswith("sqlite:///"):
        db_dir = os.path.dirname(tracking_uri[len("sqlite:///") :])
        argv += ["-v", f"{db_dir}:{db_dir}"]
    if artifact_dir and os.path.isabs(artifact_dir):
        argv += ["-v", f"{artifact_dir}:{artifact_dir}"]
    for volume in spec.volumes:
        argv += ["-v", volume]
    for name, value in run_env.items():
        argv += ["-e", f"{name}={value}"]
    for name in spec.copy_env:
        if name not in host:
            raise EnvironmentSpecError(
                f"docker_env copies the variable {name} from this machine, but it is not set."
            )
        argv += ["-e", f"{name}={host[name]}"]
    for name, value in spec.set_env:
        argv += ["-e", f"{name}={value}"]
    for name in _FORWARDED:
        if name in host and name not in run_env:
            argv += ["-e", f"{name}={host[name]}"]
    argv += [spec.image, "bash", "-c", command]
    return argv


def require_docker() -> str:
    """The docker client, after checking that an engine answers it."""
    docker = shutil.which("docker")
    if docker is None:
        raise ToolNotFound(
            "This project runs in Docker (docker_env), but the docker command is not "
            "installed. Install Docker, or run with --env-manager local."
        )
    try:
        done = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolNotFound(f"docker info did not answer: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ToolNotFound(
            f"This project runs in Docker (docker_env), but no Docker engine answers: {detail} "
            "Start the Docker daemon, or run with --env-manager local."
        )
    return docker
