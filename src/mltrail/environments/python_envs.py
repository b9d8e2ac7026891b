"""Building Python environments (uv or the standard ``venv`` + pip), cached by content hash.

An environment lives in ``<cache>/<manager>-<hash>``; the hash covers the Python version, the
dependency lines, the text of the requirement files they name, and which mltrail is installed
into it. A ``.mltrail-ready`` file written last marks it complete: a build that died half way
is removed and redone. A lock file keeps two processes from building the same one.

This module is shared by projects (``mltrail run``) and model serving
(``mltrail models serve --env-manager uv``) through :func:`prepare_python_env`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mltrail.environments.errors import EnvironmentBuildError, EnvironmentSpecError
from mltrail.environments.interpreters import Interpreter, find_interpreter
from mltrail.environments.self_install import MIN_PYTHON, self_install, self_install_key
from mltrail.environments.spec import PythonEnvSpec, load_python_env

if TYPE_CHECKING:
    from mltrail.environments.progress import BuildLog

READY_MARKER = ".mltrail-ready"
MANAGERS = ("uv", "virtualenv")


@dataclass(frozen=True)
class PreparedEnv:
    """A ready environment: its folder, its interpreter, and the log of its build."""

    env_dir: Path
    python: Path
    log_path: Path
    cached: bool
    interpreter: Interpreter
    manager: str
    warnings: tuple[str, ...] = ()

    @property
    def bin_dir(self) -> Path:
        return self.python.parent

    def activation_env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with this environment first on PATH, as ``activate`` would leave it."""
        env = dict(base)
        env["VIRTUAL_ENV"] = str(self.env_dir)
        env["PATH"] = str(self.bin_dir) + os.pathsep + base.get("PATH", "")
        env.pop("PYTHONHOME", None)
        return env


def default_cache_dir() -> Path:
    configured = os.environ.get("MLTRAIL_ENV_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "envs"


def prepare_python_env(
    spec: PythonEnvSpec | str | os.PathLike[str],
    env_manager: str = "uv",
    install_mltrail: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> Path:
    """Build (or reuse) the environment ``spec`` describes and return its ``python``.

    ``spec`` is a :class:`PythonEnvSpec` or the path of a ``python_env.yaml``. The one call
    model serving needs: ``python = prepare_python_env("model/python_env.yaml")``.
    """
    if not isinstance(spec, PythonEnvSpec):
        spec = load_python_env(spec)
    return build_python_env(spec, env_manager, install_mltrail, cache_dir, quiet).python


def build_python_env(
    spec: PythonEnvSpec,
    env_manager: str = "uv",
    install_mltrail: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> PreparedEnv:
    if env_manager not in MANAGERS:
        raise EnvironmentSpecError(
            f"Unknown environment manager {env_manager!r} for a Python environment; "
            f"use one of {', '.join(MANAGERS)}."
        )
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    # Read once: a missing -r file fails here, before anything is built, and the texts
    # feed the hash below.
    requirement_texts = spec.requirement_texts()
    interpreter = find_interpreter(spec.python)
    warnings = list(spec.warnings)
    if spec.python and interpreter.version[: len(spec.python.split("."))] != tuple(
        int(x) for x in spec.python.split(".") if x.isdigit()
    ):
        warnings.append(
            f"Python {spec.python} is not installed here; using {interpreter.version_text}, "
            "the nearest release of the same line."
        )
    with_self = install_mltrail and interpreter.version[:2] >= MIN_PYTHON
    if install_mltrail and not with_self:
        warnings.append(
            f"mltrail needs Python {'.'.join(map(str, MIN_PYTHON))}+, so it is not installed "
            f"into this Python {interpreter.version_text} environment; the project's code can "
            "still log with mlflow to the run's tracking server."
        )
    self_key = self_install_key(cache) if with_self else "no mltrail"
    key = spec.content_hash(
        env_manager, interpreter.version_text, self_key, requirement_texts=requirement_texts
    )
    env_dir = cache / f"{env_manager}-{key}"
    log_path = cache / f"{env_manager}-{key}.log"
    python = env_dir / "bin" / "python"
    # The cached path: the marker is written last, after a complete build, so finding it is
    # enough; no lock, no subprocess, no installer.
    if _is_ready(env_dir, python):
        return PreparedEnv(env_dir, python, log_path, True, interpreter, env_manager,
                           tuple(warnings))
    cache.mkdir(parents=True, exist_ok=True)
    installer = self_install(cache) if with_self else None
    with _lock(cache / f"{env_manager}-{key}.lock"):
        if _is_ready(env_dir, python):  # another process built it while we waited
            return PreparedEnv(env_dir, python, log_path, True, interpreter, env_manager,
                               tuple(warnings))
        if env_dir.exists():
            shutil.rmtree(env_dir)  # a build that did not finish
        log_path.unlink(missing_ok=True)
        from mltrail.environments.progress import BuildLog  # building only

        started = time.monotonic()
        with BuildLog(str(log_path), quiet=quiet) as log:
            for warning in warnings:
                log.say(f"warning: {warning}")
            log.say(
                f"building {env_manager} environment {env_dir.name} "
                f"(Python {interpreter.version_text}) from {spec.source}"
            )
            try:
                if env_manager == "uv":
                    _build_with_uv(spec, interpreter, env_dir, installer, log)
                else:
                    _build_with_venv(spec, interpreter, env_dir, installer, log)
            except BaseException:
                shutil.rmtree(env_dir, ignore_errors=True)
                raise
            log.say(f"environment ready in {time.monotonic() - started:.1f}s: {env_dir}")
        (env_dir / READY_MARKER).write_text(
            json.dumps({"python": interpreter.version_text, "source": spec.source}) + "\n"
        )
    return PreparedEnv(env_dir, python, log_path, False, interpreter, env_manager, tuple(warnings))


def _is_ready(env_dir: Path, python: Path) -> bool:
    return (env_dir / READY_MARKER).exists() and python.exists()


def _install_args(spec: PythonEnvSpec) -> list[str]:
    import shlex

    args: list[str] = []
    for line in spec.dependencies:
        args.extend(shlex.split(line, comments=True))
    return args


def _build_with_uv(
    spec: PythonEnvSpec,
    interpreter: Interpreter,
    env_dir: Path,
    installer: object,
    log: BuildLog,
) -> None:
    from mltrail.environments.tools import uv_executable

    uv = uv_executable()
    if uv is None:
        raise EnvironmentBuildError(
            "uv is not installed; install it (`pip install uv`, or mltrail[projects]) or "
            "use --env-manager virtualenv."
        )
    env = dict(os.environ)
    env.setdefault("UV_NO_PROGRESS", "1")
    env.pop("VIRTUAL_ENV", None)
    python = str(env_dir / "bin" / "python")
    log.run(
        "creating the virtual environment",
        [uv, "venv", "--quiet", "--python", interpreter.path, str(env_dir)],
        env=env,
    )
    if spec.build_dependencies:
        log.run(
            "installing build dependencies",
            [uv, "pip", "install", "--python", python, *spec.build_dependencies],
            cwd=spec.base_dir, env=env, failure="Installing the build dependencies",
        )
    args = _install_args(spec)
    if installer is not None:
        args.extend(installer.args)  # type: ignore[attr-defined]
    if args:
        step = "installing dependencies" + (" and mltrail" if installer is not None else "")
        command = [uv, "pip", "install", "--python", python, *args]
        if _offline_first():
            # Everything may already be in uv's cache: resolving from it skips a round trip
            # to the index per package. Anything missing makes this fail, and the online
            # install below fetches it.
            try:
                log.run(f"{step} (from uv's cache)", [*command, "--offline"],
                        cwd=spec.base_dir, env=env)
                return
            except EnvironmentBuildError:
                log.say("not everything is in uv's cache; installing from the index")
        log.run(step, command, cwd=spec.base_dir, env=env,
                failure="Installing the dependencies")


def _offline_first() -> bool:
    return os.environ.get("MLTRAIL_UV_OFFLINE_FIRST", "1") not in ("0", "false", "no")


def _build_with_venv(
    spec: PythonEnvSpec,
    interpreter: Interpreter,
    env_dir: Path,
    installer: object,
    log: BuildLog,
) -> None:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    python = str(env_dir / "bin" / "python")
    log.run(
        "creating the virtual environment (venv)",
        [interpreter.path, "-m", "venv", str(env_dir)],
        env=env,
    )
    pip = [python, "-m", "pip", "install", "--quiet"]
    if spec.build_dependencies:
        log.run("installing build dependencies", [*pip, *spec.build_dependencies],
                cwd=spec.base_dir, env=env, failure="Installing the build dependencies")
    args = _install_args(spec)
    if installer is not None:
        args.extend(installer.args)  # type: ignore[attr-defined]
    if args:
        log.run("installing dependencies", [*pip, *args], cwd=spec.base_dir, env=env,
                failure="Installing the dependencies")


class _lock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        import fcntl

        self._fh = open(self.path, "w")  # noqa: SIM115 - released in __exit__
        fcntl.flock(self._fh, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        import fcntl

        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
