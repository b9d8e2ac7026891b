"""A model's environment files: ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``.

Requirements are inferred from the modules a model's objects come from (and those their
defining modules import), mapped to installed distributions and pinned to their versions.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import platform
import sys
import types
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from mltrail.exceptions import InvalidParameter

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"

# Never written as a model's requirement: the tools themselves (the serving side adds its own).
_SKIPPED_DISTRIBUTIONS = {"mltrail", "mlflow", "mlflow-skinny", "mlflow-tracing"}


def _distribution_version(dist: str) -> str | None:
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    # Local labels such as "+cpu" do not resolve on a package index.
    return version.split("+", 1)[0]


def _top_module(name: str) -> str:
    return name.split(".", 1)[0]


def _modules_of(obj: Any) -> set[str]:
    """Top-level module names behind an object: its class's module and, for a class defined
    in user code, the modules that code imports."""
    found: set[str] = set()
    if isinstance(obj, types.FunctionType):
        module = inspect.getmodule(obj)
    else:
        cls = obj if isinstance(obj, type) else type(obj)
        for klass in inspect.getmro(cls):
            found.add(_top_module(klass.__module__))
        module = inspect.getmodule(cls)
    if module is not None and _top_module(module.__name__) not in sys.stdlib_module_names:
        for value in vars(module).values():
            if isinstance(value, types.ModuleType):
                found.add(_top_module(value.__name__))
            elif hasattr(value, "__module__") and isinstance(value.__module__, str):
                found.add(_top_module(value.__module__))
    return found


def _stdlib() -> frozenset[str]:
    return frozenset(sys.stdlib_module_names) | {"__main__", "builtins", "__mp_main__"}


# Mapping import names to distributions reads every installed RECORD file (0.3 s on a quiet
# machine with ~350 distributions, seconds under load), and autologging logs a model per fit:
# remember it while no folder on sys.path changed (installing a package touches its folder).
_DISTRIBUTIONS_MEMO: tuple[tuple[tuple[str, int], ...], dict[str, list[str]]] | None = None


def _path_stamp() -> tuple[tuple[str, int], ...]:
    stamp = []
    for entry in sys.path:
        try:
            stamp.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(stamp)


def _packages_distributions() -> dict[str, list[str]]:
    global _DISTRIBUTIONS_MEMO
    stamp = _path_stamp()
    memo = _DISTRIBUTIONS_MEMO
    if memo is not None and memo[0] == stamp:
        return memo[1]
    mapping = dict(importlib.metadata.packages_distributions())
    _DISTRIBUTIONS_MEMO = (stamp, mapping)
    return mapping


def infer_requirements(objects: Iterable[Any] = (), packages: Iterable[str] = ()) -> list[str]:
    """Pinned ``dist==version`` lines for the import names in ``packages`` and those behind
    ``objects``; names that are not installed distributions are skipped."""
    modules = set(packages)
    for obj in objects:
        modules |= _modules_of(obj)
    modules -= _stdlib()
    by_module = _packages_distributions()
    lines: set[str] = set()
    for module in modules:
        for dist in by_module.get(module, []):
            if dist.lower() in _SKIPPED_DISTRIBUTIONS:
                continue
            version = _distribution_version(dist)
            if version:
                lines.add(f"{dist}=={version}")
    return sorted(lines, key=str.lower)


def _read_requirement_lines(value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        if not os.path.isfile(value):
            raise InvalidParameter(
                f"pip requirements given as a string must be a requirements file; "
                f"no file at {value!r}."
            )
        with open(value, encoding="utf-8") as f:
            return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    return [str(v).strip() for v in value if str(v).strip()]


def resolve_requirements(
    inferred: list[str],
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
) -> list[str]:
    """The requirements to write: the user's list replaces the inferred one; extras add."""
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidParameter(
            "Only one of pip_requirements and extra_pip_requirements can be given."
        )
    if pip_requirements is not None:
        return _read_requirement_lines(pip_requirements)
    out = list(inferred)
    if extra_pip_requirements is not None:
        for line in _read_requirement_lines(extra_pip_requirements):
            if line not in out:
                out.append(line)
    return out


def python_version() -> str:
    return platform.python_version()


def _build_dependencies() -> list[str]:
    deps = []
    for dist in ("pip", "setuptools"):
        version = _distribution_version(dist)
        if version:
            deps.append(f"{dist}=={version}")
    return [*deps, "wheel"]


def write_environment(path: str, requirements: list[str]) -> None:
    """Write the three environment files into the model directory."""
    with open(os.path.join(path, REQUIREMENTS_FILE), "w", encoding="utf-8") as f:
        f.write("\n".join(requirements))
    python_env = {
        "python": python_version(),
        "build_dependencies": _build_dependencies(),
        "dependencies": ["-r requirements.txt"],
    }
    with open(os.path.join(path, PYTHON_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(python_env, f, sort_keys=False)
    pip_version = _distribution_version("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python_version()}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(requirements)},
        ],
        "name": "mlflow-env",
    }
    with open(os.path.join(path, CONDA_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(conda, f, sort_keys=False)


def write_conda_env(path: str, conda_env: str | dict[str, Any]) -> list[str]:
    """A user-given conda environment (a dict or a YAML file); returns its pip lines."""
    if isinstance(conda_env, str):
        with open(conda_env, encoding="utf-8") as f:
            conda_env = yaml.safe_load(f) or {}
    if not isinstance(conda_env, dict):
        raise InvalidParameter("conda_env must be a dict or the path of a YAML file.")
    pip_lines: list[str] = []
    for dep in conda_env.get("dependencies", []) or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip_lines.extend(str(x) for x in dep["pip"])
    return pip_lines


def env_config() -> dict[str, str]:
    """The ``env`` entry of the ``python_function`` flavor."""
    return {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE}
