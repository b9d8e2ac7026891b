"""Conda environments from a conda YAML, in the same cache as the Python ones.

Used only where a conda executable exists (``MLFLOW_CONDA_HOME``, ``CONDA_EXE``, or conda,
mamba or micromamba on PATH); otherwise one clear error says what to do instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from mltrail.environments.errors import ToolNotFound
from mltrail.environments.interpreters import Interpreter, _probe
from mltrail.environments.progress import BuildLog
from mltrail.environments.python_envs import READY_MARKER, PreparedEnv, _lock, default_cache_dir
from mltrail.environments.self_install import MIN_PYTHON, self_install
from mltrail.environments.spec import _read_yaml
from mltrail.environments.tools import conda_executable


def require_conda() -> str:
    conda = conda_executable()
    if conda is None:
        raise ToolNotFound(
            "Could not find a conda executable (looked at MLFLOW_CONDA_HOME, CONDA_EXE, and "
            "conda, mamba and micromamba on PATH). Install conda (e.g. Miniforge), or run with "
            "--env-manager uv to build the environment from the same file with uv, or "
            "--env-manager local to use the current one."
        )
    return conda


def build_conda_env(
    conda_yaml: str | os.PathLike[str],
    install_mltrail: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> PreparedEnv:
    conda = require_conda()
    where = os.fspath(conda_yaml)
    _read_yaml(where)  # a missing or malformed file fails before conda runs
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    content = Path(where).read_bytes()
    installer = self_install(cache) if install_mltrail else None
    key = hashlib.sha256(
        content + (installer.cache_key.encode() if installer else b"")
    ).hexdigest()[:20]
    env_dir = cache / f"conda-{key}"
    log_path = cache / f"conda-{key}.log"
    python = env_dir / "bin" / "python"
    with _lock(cache / f"conda-{key}.lock"):
        if not (env_dir / READY_MARKER).exists():
            shutil.rmtree(env_dir, ignore_errors=True)
            log_path.unlink(missing_ok=True)
            started = time.monotonic()
            with BuildLog(str(log_path), quiet=quiet) as log:
                log.say(f"building conda environment {env_dir.name} from {where}")
                create = (
                    [conda, "create", "--yes", "--prefix", str(env_dir), "--file", where]
                    if os.path.basename(conda).startswith("micromamba")
                    else [conda, "env", "create", "--prefix", str(env_dir), "--file", where]
                )
                try:
                    log.run("creating the conda environment", create,
                            failure="Creating the conda environment")
                    version = _probe(str(python))
                    if installer is not None and version and version[:2] >= MIN_PYTHON:
                        log.run("installing mltrail",
                                [str(python), "-m", "pip", "install", *installer.args])
                except BaseException:
                    shutil.rmtree(env_dir, ignore_errors=True)
                    raise
                log.say(f"environment ready in {time.monotonic() - started:.1f}s")
            (env_dir / READY_MARKER).write_text(where + "\n")
            cached = False
        else:
            cached = True
    version = _probe(str(python)) or (0, 0, 0)
    return PreparedEnv(env_dir, python, log_path, cached, Interpreter(str(python), version),
                       "conda")
