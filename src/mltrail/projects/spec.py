"""The ``MLproject`` file: name, one environment, and entry points with typed parameters.

Strict where a mistake would run the wrong thing (unknown keys under an environment, a missing
command, several environments), lenient where users slip in ways whose meaning is clear: the
seed's ``strategy: {type str, default: "None"}`` (a missing colon, so YAML reads a key named
``"type str"``) runs as a string parameter, with a warning that points at the colon.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.environments import yaml_memo
from mltrail.projects.errors import MissingEnvironmentFile, ProjectSpecError

PARAM_TYPES = ("string", "float", "int", "path", "uri")
# What users write for our types; accepted with a warning.
_TYPE_ALIASES = {"str": "string", "integer": "int", "double": "float", "number": "float"}
ENV_KEYS = ("python_env", "conda_env", "docker_env")
SCRIPT_SUFFIXES = (".py", ".sh")


@dataclass(frozen=True)
class Parameter:
    """A declared parameter of an entry point: its type and default (required if none)."""

    name: str
    type: str = "string"
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class EntryPoint:
    """A command of the project with its declared parameters."""

    name: str
    command: str
    parameters: dict[str, Parameter] = field(default_factory=dict)
    is_script: bool = False


@dataclass(frozen=True)
class ProjectSpec:
    """A parsed project. ``env_type`` is ``python_env``, ``conda_env``, ``docker_env`` or
    ``local``; ``env_value`` is the file path (absolute) or the docker mapping."""

    root: Path
    name: str | None
    env_type: str
    env_value: Any
    entry_points: dict[str, EntryPoint]
    warnings: tuple[str, ...] = ()
    has_mlproject: bool = True

    def entry_point(self, name: str) -> EntryPoint:
        if name in self.entry_points:
            return self.entry_points[name]
        script = _script_entry_point(self.root, name)
        if script is not None:
            return script
        known = ", ".join(sorted(self.entry_points)) or "none"
        raise ProjectSpecError(
            f"Unknown entry point {name!r}: the project's entry points are {known}, and "
            f"{name!r} is not a .py or .sh file in {self.root}."
        )


def find_mlproject(root: Path) -> Path | None:
    """MLflow finds the file whatever its case (``MLproject``, ``mlproject``)."""
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for name in sorted(names):
        if name.lower() == "mlproject" and (root / name).is_file():
            return root / name
    return None


def load_project(root: str | os.PathLike[str]) -> ProjectSpec:
    folder = Path(root).resolve()
    if not folder.is_dir():
        raise ProjectSpecError(f"Project folder {folder} does not exist.")
    path = find_mlproject(folder)
    if path is None:
        return _project_without_file(folder)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml_memo.safe_load(text)
    except Exception as exc:
        import yaml  # loaded already: only a parse that ran can have failed

        if not isinstance(exc, yaml.YAMLError):
            raise
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it does not parse"
        raise ProjectSpecError(f"{path} is not valid YAML{at}: {problem}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectSpecError(f"{path} must be a mapping of keys (name, entry_points, ...).")
    return parse_project(data, folder, str(path))


def parse_project(data: dict[str, Any], root: Path, source: str = "MLproject") -> ProjectSpec:
    warnings: list[str] = []
    name = data.get("name")
    if name is not None and not isinstance(name, (str, int)):
        raise ProjectSpecError(f"{source}: 'name' must be a string.")
    env_type, env_value = _environment(data, root, source)
    raw_entries = data.get("entry_points") or {}
    if not isinstance(raw_entries, dict):
        raise ProjectSpecError(f"{source}: 'entry_points' must map names to entry points.")
    entries = {
        str(ep_name): _entry_point(str(ep_name), body, source, warnings)
        for ep_name, body in raw_entries.items()
    }
    return ProjectSpec(root, None if name is None else str(name), env_type, env_value, entries,
                       tuple(warnings))


def _environment(data: dict[str, Any], root: Path, source: str) -> tuple[str, Any]:
    given = [key for key in ENV_KEYS if data.get(key) is not None]
    if len(given) > 1:
        raise ProjectSpecError(
            f"{source} names several environments ({', '.join(given)}); keep one."
        )
    if not given:
        # MLflow's defaults: a python_env.yaml or conda.yaml beside the MLproject file.
        for file_name, kind in (("python_env.yaml", "python_env"), ("conda.yaml", "conda_env")):
            if (root / file_name).is_file():
                return kind, str(root / file_name)
        return "local", None
    kind = given[0]
    value = data[kind]
    if kind == "docker_env":
        from mltrail.environments.docker import docker_env_from_dict

        try:
            return kind, docker_env_from_dict(value, source)
        except Exception as exc:  # EnvironmentSpecError is an InvalidParameter already
            raise ProjectSpecError(str(exc)) from None
    if not isinstance(value, str):
        raise ProjectSpecError(f"{source}: {kind} must be the path of a YAML file.")
    path = (root / value).resolve()
    if not _inside(path, root):
        raise ProjectSpecError(f"{source}: {kind} file {value} lies outside the project folder.")
    if not path.is_file():
        raise MissingEnvironmentFile(
            f"{source} names {kind} file {value}, but {path} does not exist."
        )
    return kind, str(path)


def _entry_point(name: str, body: Any, source: str, warnings: list[str]) -> EntryPoint:
    if isinstance(body, str):
        body = {"command": body}
    if not isinstance(body, dict):
        raise ProjectSpecError(
            f"{source}: entry point {name!r} must be a mapping with 'command' and 'parameters'."
        )
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ProjectSpecError(f"{source}: entry point {name!r} has no 'command'.")
    raw_params = body.get("parameters") or {}
    if not isinstance(raw_params, dict):
        raise ProjectSpecError(
            f"{source}: the parameters of entry point {name!r} must be a mapping."
        )
    params = {
        str(p_name): _parameter(name, str(p_name), spec, source, warnings)
        for p_name, spec in raw_params.items()
    }
    return EntryPoint(name, command.strip(), params)


def _parameter(
    entry: str, name: str, spec: Any, source: str, warnings: list[str]
) -> Parameter:
    where = f"{source}: parameter {name!r} of entry point {entry!r}"
    if spec is None:
        return Parameter(name)
    if isinstance(spec, str):  # the shorthand `data_file: path`: that type, required
        return Parameter(name, _type_name(spec, where, warnings), None, True)
    if not isinstance(spec, dict):
        # `alpha: 0.5` is not a parameter spec; most likely a default was meant.
        warnings.append(f"{where} is {spec!r}, not a mapping; read as {{default: {spec!r}}}.")
        return Parameter(name, "string", spec, False)
    keys = {str(k) for k in spec}
    type_value = spec.get("type")
    for key in keys:
        # `{type str, default: x}`: YAML reads one key "type str" with no value.
        if key.startswith("type ") and spec.get(key) is None and "type" not in keys:
            intended = key[len("type ") :].strip()
            warnings.append(
                f"{where}: '{key}' is missing a colon after 'type' (write "
                f"'type: {intended}'); read as type {_TYPE_ALIASES.get(intended, intended)!r}."
            )
            type_value = intended
        elif key not in ("type", "default", "description") and not key.startswith("type "):
            warnings.append(f"{where}: unknown key {key!r} ignored.")
    type_name = "string" if type_value is None else _type_name(str(type_value), where, warnings)
    if "default" in spec:
        return Parameter(name, type_name, spec["default"], False)
    return Parameter(name, type_name, None, True)


def _type_name(text: str, where: str, warnings: list[str]) -> str:
    name = text.strip().lower()
    if name in PARAM_TYPES:
        return name
    if name in _TYPE_ALIASES:
        return _TYPE_ALIASES[name]
    warnings.append(
        f"{where}: unknown type {text!r} (known: {', '.join(PARAM_TYPES)}); treated as string."
    )
    return "string"


def _project_without_file(root: Path) -> ProjectSpec:
    env_type, env_value = _environment({}, root, str(root))
    return ProjectSpec(root, None, env_type, env_value, {}, (), has_mlproject=False)


def _script_entry_point(root: Path, name: str) -> EntryPoint | None:
    """``-e train.py`` runs a script of the project (MLflow's behaviour)."""
    if not name.endswith(SCRIPT_SUFFIXES):
        return None
    path = (root / name).resolve()
    if not _inside(path, root) or not path.is_file():
        return None
    import shlex

    runner = "python" if name.endswith(".py") else "bash"
    return EntryPoint(name, f"{runner} {shlex.quote(name)}", {}, is_script=True)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
