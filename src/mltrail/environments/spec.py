"""What a Python environment should contain: MLflow's ``python_env.yaml`` (``python``,
``build_dependencies``, ``dependencies``), also read from a conda YAML, and the hash that names
its cached copy.

Requirement files named by ``-r file`` are read in, so editing ``requirements.txt`` changes the
hash (and so builds a new environment) even though ``python_env.yaml`` did not change.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.environments import yaml_memo
from mltrail.environments.errors import EnvironmentSpecError

_PYTHON_ENV_KEYS = {"python", "build_dependencies", "dependencies"}


@dataclass(frozen=True)
class PythonEnvSpec:
    """A Python version and the pip lines to install, build dependencies first.

    ``base_dir`` is where relative ``-r``/``-c`` files and local paths are looked up.
    """

    python: str | None = None
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    base_dir: str = "."
    source: str = "<python_env>"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def requirement_texts(self) -> dict[str, str]:
        """The content of every requirements file the dependencies name (``-r``, ``-c``),
        followed recursively; a missing file is an error that names it."""
        found: dict[str, str] = {}
        for line in self.dependencies:
            _collect_requirement_files(line, Path(self.base_dir), found, self.source)
        return found

    def content_hash(self, *extra: str, requirement_texts: dict[str, str] | None = None) -> str:
        """A short hash of everything that decides the environment's content
        (``requirement_texts``: :meth:`requirement_texts`, if the caller has read them)."""
        if requirement_texts is None:
            requirement_texts = self.requirement_texts()
        payload = {
            "python": self.python,
            "build": list(self.build_dependencies),
            "deps": list(self.dependencies),
            # by name relative to the spec, so the same project elsewhere shares the cache
            "files": {
                os.path.relpath(path, self.base_dir): text
                for path, text in sorted(requirement_texts.items())
            },
            "extra": list(extra),
        }
        raw = json.dumps(payload, sort_keys=True).encode()
        return sha256_hex(raw)[:20]


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` in hex. ``hashlib`` loads OpenSSL, a few milliseconds of every
    cached run; CPython's own implementation, which hashlib falls back to, gives the same
    digest and loads at once."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment,no-redef,unused-ignore]
    return sha256(data).hexdigest()  # type: ignore[no-any-return,unused-ignore]


def load_python_env(path: str | os.PathLike[str]) -> PythonEnvSpec:
    """Read a ``python_env.yaml``; every mistake is one sentence naming the file."""
    where = os.fspath(path)
    data = _read_yaml(where)
    if not isinstance(data, dict):
        raise EnvironmentSpecError(
            f"{where} must be a mapping with 'python', 'build_dependencies' and 'dependencies'."
        )
    unknown = sorted(set(map(str, data)) - _PYTHON_ENV_KEYS)
    if unknown:
        raise EnvironmentSpecError(
            f"{where} has unknown key(s) {', '.join(unknown)}; allowed: python, "
            "build_dependencies, dependencies."
        )
    base_dir = os.path.dirname(os.path.abspath(where))
    return python_env_from_dict(data, base_dir=base_dir, source=where)


def python_env_from_dict(
    data: dict[str, Any], base_dir: str = ".", source: str = "<python_env>"
) -> PythonEnvSpec:
    python = data.get("python")
    if python is not None and not isinstance(python, (str, int, float)):
        raise EnvironmentSpecError(f"{source}: 'python' must be a version such as \"3.11\".")
    return PythonEnvSpec(
        python=_version_text(python),
        build_dependencies=_string_list(
            data.get("build_dependencies"), "build_dependencies", source
        ),
        dependencies=_string_list(data.get("dependencies"), "dependencies", source),
        base_dir=base_dir,
        source=source,
    )


def python_env_from_conda(path: str | os.PathLike[str]) -> PythonEnvSpec:
    """A conda YAML read as a python_env (for ``--env-manager uv|virtualenv``): ``python=X``
    gives the version, the ``pip:`` list the dependencies; other conda packages cannot be
    installed by pip and are reported as warnings."""
    where = os.fspath(path)
    data = _read_yaml(where)
    if not isinstance(data, dict):
        raise EnvironmentSpecError(f"{where} is not a conda environment file (a mapping).")
    python: str | None = None
    pip_lines: list[str] = []
    skipped: list[str] = []
    for item in data.get("dependencies") or []:
        if isinstance(item, dict) and "pip" in item:
            pip_lines.extend(_string_list(item["pip"], "pip", where))
        elif isinstance(item, str):
            name = item.split("=", 1)[0].split("<", 1)[0].split(">", 1)[0].strip()
            if name == "python":
                python = item[len("python") :].lstrip("=<>! ") or None
            elif name != "pip":
                skipped.append(item)
    warnings: tuple[str, ...] = ()
    if skipped:
        warnings = (
            f"{where}: conda packages {', '.join(skipped)} are not pip requirements and were "
            "not installed; add them to the pip list or use --env-manager conda.",
        )
    return PythonEnvSpec(
        python=python,
        dependencies=tuple(pip_lines),
        base_dir=os.path.dirname(os.path.abspath(where)),
        source=where,
        warnings=warnings,
    )


def _read_yaml(where: str) -> Any:
    try:
        with open(where, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise EnvironmentSpecError(f"Environment file {where} does not exist.") from None
    try:
        return yaml_memo.safe_load(text)
    except Exception as exc:
        import yaml  # loaded already: only a parse that ran can have failed

        if not isinstance(exc, yaml.YAMLError):
            raise
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise EnvironmentSpecError(f"{where} is not valid YAML{at}: {exc}") from None


def _version_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _string_list(value: object, key: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(x, (str, int, float)) for x in value):
        raise EnvironmentSpecError(f"{source}: '{key}' must be a list of requirement lines.")
    return tuple(str(x).strip() for x in value if str(x).strip())


def _collect_requirement_files(
    line: str, base: Path, found: dict[str, str], source: str, depth: int = 0
) -> None:
    words = line.split()
    if len(words) < 2 or words[0] not in ("-r", "--requirement", "-c", "--constraint"):
        return
    target = (base / words[1]).resolve()
    key = str(target)
    if key in found or depth > 10:
        return
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvironmentSpecError(
            f"{source} names requirements file {words[1]}, but {target} does not exist."
        ) from None
    found[key] = text
    for inner in text.splitlines():
        _collect_requirement_files(inner.strip(), target.parent, found, source, depth + 1)
