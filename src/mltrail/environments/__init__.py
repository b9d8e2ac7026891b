"""Environments a project or a served model runs in: uv or venv for ``python_env``, conda,
and the ``docker run`` line for ``docker_env``.

For model serving, one call: ``python = prepare_python_env("path/to/python_env.yaml")``
returns the interpreter of a cached environment with those requirements and this mltrail.
"""

from mltrail.environments.errors import (
    EnvironmentBuildError,
    EnvironmentSpecError,
    PythonNotAvailable,
    ToolNotFound,
)
from mltrail.environments.interpreters import Interpreter, available_interpreters, find_interpreter
from mltrail.environments.python_envs import (
    PreparedEnv,
    build_python_env,
    default_cache_dir,
    prepare_python_env,
)
from mltrail.environments.spec import (
    PythonEnvSpec,
    load_python_env,
    python_env_from_conda,
    python_env_from_dict,
)

__all__ = [
    "EnvironmentBuildError",
    "EnvironmentSpecError",
    "Interpreter",
    "PreparedEnv",
    "PythonEnvSpec",
    "PythonNotAvailable",
    "ToolNotFound",
    "available_interpreters",
    "build_python_env",
    "default_cache_dir",
    "find_interpreter",
    "load_python_env",
    "prepare_python_env",
    "python_env_from_conda",
    "python_env_from_dict",
]
