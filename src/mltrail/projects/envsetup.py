"""Which environment manager a project runs with, and getting that environment ready.

Defaults: ``python_env`` -> uv, ``conda_env`` -> conda, ``docker_env`` -> docker, none ->
local. ``--env-manager`` overrides (``--no-conda``/``use_conda=False`` mean local); uv and
virtualenv also read a conda YAML (its python version and pip list).
"""

from __future__ import annotations

from dataclasses import dataclass

from mltrail.environments import (
    PreparedEnv,
    build_python_env,
    load_python_env,
    python_env_from_conda,
)
from mltrail.projects.errors import ProjectSpecError
from mltrail.projects.spec import ProjectSpec

ENV_MANAGERS = ("local", "uv", "virtualenv", "conda")


@dataclass(frozen=True)
class EnvPlan:
    """The environment manager a project run uses."""

    manager: str  # local | uv | virtualenv | conda | docker

    @property
    def tag_value(self) -> str | None:
        """``mlflow.project.env`` (MLflow does not set it for local)."""
        return None if self.manager == "local" else self.manager


def choose_manager(spec: ProjectSpec, env_manager: str | None) -> EnvPlan:
    if env_manager is not None and env_manager not in ENV_MANAGERS:
        raise ProjectSpecError(
            f"Unknown environment manager {env_manager!r}; use one of "
            f"{', '.join(ENV_MANAGERS)}."
        )
    if spec.env_type == "docker_env":
        return EnvPlan("local" if env_manager == "local" else "docker")
    if env_manager is not None:
        if env_manager == "conda" and spec.env_type == "python_env":
            raise ProjectSpecError(
                "A python_env project cannot be built with conda; use --env-manager uv, "
                "virtualenv or local."
            )
        if env_manager != "local" and spec.env_type == "local":
            return EnvPlan("local")  # nothing declared: nothing to build
        return EnvPlan(env_manager)
    return EnvPlan(
        {"python_env": "uv", "conda_env": "conda", "local": "local"}.get(spec.env_type, "local")
    )


def prepare(spec: ProjectSpec, plan: EnvPlan, quiet: bool = False) -> PreparedEnv | None:
    """Build or reuse the environment; None for local and docker (nothing to build here)."""
    if plan.manager in ("local", "docker"):
        return None
    if plan.manager == "conda":
        from mltrail.environments.conda import build_conda_env  # conda projects only

        return build_conda_env(spec.env_value, quiet=quiet)
    if spec.env_type == "conda_env":
        env_spec = python_env_from_conda(spec.env_value)
    else:
        env_spec = load_python_env(spec.env_value)
    return build_python_env(env_spec, env_manager=plan.manager, quiet=quiet)
