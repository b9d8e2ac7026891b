"""Entry-point parameters: checked against their declared types, then substituted into the
command template shell-quoted, so that a value is always one literal argument.

* ``int``/``float`` values must parse as such (MLflow passes ``n=1.5`` through unchecked);
* ``path`` values are made absolute: a value the user gives is relative to the caller's
  folder, a default is relative to the project and may not point outside it;
* ``uri`` values must have a scheme;
* undeclared ``-P key=value`` pairs are appended as ``--key value`` once their keys pass a
  strict name check (letters, digits, ``_ . -``).
"""

from __future__ import annotations

import os
import re
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mltrail.projects.errors import ProjectSpecError
from mltrail.projects.spec import EntryPoint, Parameter

_EXTRA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,249}$")
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class ResolvedParameters:
    """``values``: what is substituted (before quoting); ``logged``: what the run records
    (the values as the user gave them); ``extras``: undeclared pairs, in the order given."""

    values: dict[str, str]
    logged: dict[str, str]
    extras: tuple[tuple[str, str], ...] = ()
    notes: list[str] = field(default_factory=list)


def parse_param_list(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``-P name=value`` options into a dict; split on the first ``=``."""
    params: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ProjectSpecError(f"Invalid -P parameter {item!r}: write it as -P name=value.")
        name, value = item.split("=", 1)
        name = name.strip()
        if not name:
            raise ProjectSpecError(f"Invalid -P parameter {item!r}: the name is empty.")
        if name in params:
            raise ProjectSpecError(f"Parameter {name!r} is given twice.")
        params[name] = value
    return params


def resolve_parameters(
    entry: EntryPoint,
    given: dict[str, Any],
    project_root: Path,
    cwd: str | None = None,
    storage_dir: str | None = None,
) -> ResolvedParameters:
    """Check ``given`` against the entry point. A ``path`` value given as a remote URI
    (``s3://``, ``runs:/``, ``mlflow-artifacts:/``, ``https://``) is downloaded into
    ``storage_dir`` (a new temporary folder if None) and replaced by the local copy."""
    caller_dir = Path(cwd or os.getcwd())
    storage = _Storage(storage_dir)
    missing = [
        p.name for p in entry.parameters.values() if p.required and p.name not in given
    ]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        hint = " ".join(f"-P {m}=VALUE" for m in missing)
        raise ProjectSpecError(
            f"No value given for the required parameter(s) {names} of entry point "
            f"{entry.name!r}; pass {hint}."
        )
    values: dict[str, str] = {}
    logged: dict[str, str] = {}
    for param in entry.parameters.values():
        if param.name in given:
            raw = given[param.name]
            values[param.name] = _check(param, _text(raw), entry, user_given=True,
                                        base=caller_dir, project_root=project_root,
                                        storage=storage)
        else:
            raw = param.default
            values[param.name] = _check(param, _text(raw), entry, user_given=False,
                                        base=project_root, project_root=project_root,
                                        storage=storage)
        logged[param.name] = _text(raw)
    extras = []
    for key, raw in given.items():
        if key in entry.parameters:
            continue
        if not isinstance(key, str) or not _EXTRA_KEY.match(key):
            raise ProjectSpecError(
                f"Invalid parameter name {key!r}: entry point {entry.name!r} does not declare "
                "it, and undeclared names (passed on as --name value) may only contain "
                "letters, digits, '_', '.' and '-'."
            )
        extras.append((key, _text(raw)))
        logged[key] = _text(raw)
    return ResolvedParameters(values, logged, tuple(extras))


def build_command(entry: EntryPoint, resolved: ResolvedParameters) -> str:
    """The shell command: the template with every placeholder replaced by its quoted value,
    then the extras as ``--key value``. ``{{``/``}}`` are literal braces."""
    pieces: list[str] = []
    try:
        parsed = list(string.Formatter().parse(entry.command))
    except ValueError as exc:
        raise ProjectSpecError(
            f"The command of entry point {entry.name!r} has unbalanced braces ({exc}); "
            "write literal braces as {{ and }}."
        ) from None
    for literal, field_name, format_spec, conversion in parsed:
        pieces.append(literal)
        if field_name is None:
            continue
        if format_spec or conversion or field_name not in resolved.values:
            placeholder = "{" + field_name + ("!" + conversion if conversion else "") + (
                ":" + format_spec if format_spec else "") + "}"
            raise ProjectSpecError(
                f"The command of entry point {entry.name!r} uses {placeholder}, which is not "
                "one of its declared parameters"
                + (f" ({', '.join(entry.parameters)})" if entry.parameters else "")
                + "; declare it under 'parameters', or write literal braces as {{ and }}."
            )
        pieces.append(shlex.quote(resolved.values[field_name]))
    command = "".join(pieces)
    for key, value in resolved.extras:
        command += f" --{shlex.quote(key)} {shlex.quote(value)}"
    return command


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _check(
    param: Parameter,
    value: str,
    entry: EntryPoint,
    user_given: bool,
    base: Path,
    project_root: Path,
    storage: _Storage | None = None,
) -> str:
    where = f"parameter {param.name!r} of entry point {entry.name!r}"
    origin = "" if user_given else " (its default)"
    if param.type == "int":
        if not _INT.match(value.strip()):
            raise ProjectSpecError(f"{where} must be an int, got {value!r}{origin}.")
        return value.strip()
    if param.type == "float":
        try:
            float(value)
        except ValueError:
            raise ProjectSpecError(f"{where} must be a float, got {value!r}{origin}.") from None
        return value.strip()
    if param.type == "uri":
        scheme = urlparse(value).scheme
        if len(scheme) < 2:  # "C:" is a drive, not a scheme
            raise ProjectSpecError(
                f"{where} must be a URI with a scheme (such as s3://, https://, file://), "
                f"got {value!r}{origin}."
            )
        return value
    if param.type == "path":
        parsed = urlparse(value)
        if len(parsed.scheme) > 1 and parsed.scheme != "file":
            return (storage or _Storage(None)).download(param.name, value, where)
        return _local_path(value, where, origin, user_given, base, project_root)
    return value


def _local_path(
    value: str, where: str, origin: str, user_given: bool, base: Path, project_root: Path
) -> str:
    parsed = urlparse(value)
    if parsed.scheme == "file":
        if not user_given:
            raise ProjectSpecError(
                f"{where} has the default {value!r}, a file:// URI; a default path must be "
                "relative to the project folder."
            )
        if parsed.netloc not in ("", "localhost"):
            return value
        value = parsed.path
    if not user_given:
        resolved = (project_root / value).resolve()
        try:
            resolved.relative_to(project_root.resolve())
        except ValueError:
            raise ProjectSpecError(
                f"{where} has the default {value!r}, which points outside the project "
                "folder; a default path must stay inside it (pass another with -P)."
            ) from None
    else:
        resolved = (base / os.path.expanduser(value)).resolve()
    if not resolved.exists():
        raise ProjectSpecError(
            f"{where} is {value!r}{origin}, but {resolved} does not exist."
        )
    return str(resolved)


class _Storage:
    """Where remote ``path`` values are downloaded: one folder per parameter."""

    def __init__(self, root: str | None) -> None:
        self._root = root

    def download(self, name: str, uri: str, where: str) -> str:
        if self._root is None:
            import tempfile

            self._root = tempfile.mkdtemp(prefix="mltrail-params-")
        target = os.path.join(self._root, f"param_{name}")
        os.makedirs(target, exist_ok=True)
        try:
            return _fetch(uri, target)
        except ProjectSpecError:
            raise
        except Exception as exc:  # noqa: BLE001 - network and storage errors are many
            raise ProjectSpecError(f"{where}: could not download {uri}: {exc}") from None


def _fetch(uri: str, target: str) -> str:
    scheme = urlparse(uri).scheme.lower()
    if scheme in ("http", "https"):
        import requests

        name = os.path.basename(urlparse(uri).path.rstrip("/")) or "download"
        local = os.path.join(target, name)
        with requests.get(uri, stream=True, timeout=60) as answer:
            answer.raise_for_status()
            with open(local, "wb") as fh:
                for chunk in answer.iter_content(1 << 20):
                    fh.write(chunk)
        return local
    if scheme in ("s3", "runs", "mlflow-artifacts"):
        from mltrail.artifacts import download_artifacts, get_artifact_repository

        if scheme == "runs":
            return download_artifacts(artifact_uri=uri, dst_path=target)
        parent, _, leaf = uri.rstrip("/").rpartition("/")
        return get_artifact_repository(parent).download_artifacts(leaf, target)
    raise ProjectSpecError(
        f"Cannot download {uri}: path parameters may be local paths or s3://, runs:/, "
        "mlflow-artifacts:/, http(s):// URIs."
    )
