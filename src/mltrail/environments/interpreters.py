"""Finding a Python interpreter of a wanted version without pyenv: the ones already on the
machine (this one, ``/usr/bin``, ``/usr/local/bin``, pyenv's or uv's install folders), and
otherwise one that uv downloads.

Versions are read from an interpreter by running it once; answers are kept for the process.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from mltrail.environments.errors import PythonNotAvailable


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter on this machine and its version."""

    path: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def parse_version(text: str) -> tuple[int, ...]:
    """``"3.11"`` -> (3, 11); ``"3.11.7"`` -> (3, 11, 7); ``"==3.10.*"`` -> (3, 10)."""
    cleaned = text.strip().lstrip("=~<>! ").rstrip(".*").strip()
    parts = cleaned.split(".")
    try:
        numbers = tuple(int(p) for p in parts if p != "")
    except ValueError:
        raise PythonNotAvailable(
            f"'{text}' is not a Python version; write it like \"3.11\" or \"3.11.7\"."
        ) from None
    if not numbers or len(numbers) > 3:
        raise PythonNotAvailable(
            f"'{text}' is not a Python version; write it like \"3.11\" or \"3.11.7\"."
        )
    return numbers


def _candidate_paths() -> list[str]:
    home = os.path.expanduser("~")
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.join(home, ".pyenv"))
    patterns = [
        os.path.join(pyenv_root, "versions/*/bin/python3"),
        os.path.join(home, ".local/share/uv/python/*/bin/python3"),
        "/usr/bin/python3.*",
        "/usr/local/bin/python3.*",
        "/opt/python*/bin/python3",
    ]
    found = [sys.executable]
    for pattern in patterns:
        found.extend(sorted(glob.glob(pattern)))
    for name in ("python3", "python"):
        on_path = shutil.which(name)
        if on_path:
            found.append(on_path)
    seen: set[str] = set()
    unique = []
    for path in found:
        if path.endswith(("-config", "m")) or not os.access(path, os.X_OK):
            continue
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    return unique


_PROBE_CACHE: dict[str, tuple[int, int, int] | None] = {}


def _probe(path: str) -> tuple[int, int, int] | None:
    """The version of the interpreter at ``path``; remembered on disk by path and mtime,
    since starting ten interpreters costs a second."""
    try:
        stamp = f"{os.path.realpath(path)}:{os.stat(path).st_mtime_ns}"
    except OSError:
        return None
    if not _PROBE_CACHE:
        _PROBE_CACHE.update(_load_probe_cache())
    if stamp in _PROBE_CACHE:
        return _PROBE_CACHE[stamp]
    version = _run_probe(path)
    _PROBE_CACHE[stamp] = version
    _save_probe_cache()
    return version


def _probe_cache_file() -> str:
    from mltrail.environments.python_envs import default_cache_dir

    return os.path.join(str(default_cache_dir()), "interpreters.json")


def _load_probe_cache() -> dict[str, tuple[int, int, int] | None]:
    try:
        with open(_probe_cache_file(), encoding="utf-8") as fh:
            raw = json.load(fh)
        return {k: (tuple(v) if v else None) for k, v in raw.items()}
    except (OSError, ValueError, TypeError):
        return {}


def _save_probe_cache() -> None:
    path = _probe_cache_file()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({k: list(v) if v else None for k, v in _PROBE_CACHE.items()}, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache only


def _run_probe(path: str) -> tuple[int, int, int] | None:
    try:
        done = subprocess.run(
            [path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        major, minor, micro = (int(x) for x in done.stdout.strip().split("."))
    except ValueError:
        return None
    return (major, minor, micro)


def available_interpreters() -> list[Interpreter]:
    """Every working CPython found, newest version first."""
    found: dict[tuple[int, int, int], Interpreter] = {}
    for path in _candidate_paths():
        version = _probe(path)
        if version is not None and version not in found:
            found[version] = Interpreter(path, version)
    return sorted(found.values(), key=lambda i: i.version, reverse=True)


def find_interpreter(wanted: str | None, allow_download: bool | None = None) -> Interpreter:
    """The interpreter for ``wanted``: an exact version if asked for (``3.11.7``), else the
    newest of that minor line (``3.11``). With no version, the caller's own interpreter.

    A patch release that is not here but whose minor line is gets the nearest of that line,
    with a warning on the returned record's side (the caller prints it). With nothing close,
    uv is asked to download it; if that fails too, the error lists what there is.
    """
    if not wanted:
        info = sys.version_info
        return Interpreter(sys.executable, (info.major, info.minor, info.micro))
    numbers = parse_version(wanted)
    info = sys.version_info
    if (info.major, info.minor, info.micro)[: len(numbers)] == numbers:
        # The caller's own interpreter fits: no need to look further (and no probing).
        return Interpreter(sys.executable, (info.major, info.minor, info.micro))
    interpreters = available_interpreters()
    exact = [i for i in interpreters if i.version[: len(numbers)] == numbers]
    if exact:
        return exact[0]
    if allow_download is None:
        allow_download = os.environ.get("MLTRAIL_PYTHON_DOWNLOADS", "auto") != "never"
    download_error = ""
    if allow_download:
        downloaded, download_error = _uv_download(wanted)
        if downloaded is not None:
            return downloaded
    same_minor = [i for i in interpreters if i.version[:2] == numbers[:2]]
    if len(numbers) == 3 and same_minor:
        return same_minor[0]
    listed = ", ".join(i.version_text for i in interpreters) or "none"
    why = f" (uv could not download it: {download_error})" if download_error else ""
    raise PythonNotAvailable(
        f"Python {wanted} is not available on this machine{why}. Available versions: {listed}. "
        "Change 'python:' in the environment file to one of them, or install it "
        f"(`uv python install {wanted}`)."
    )


def _uv_download(wanted: str) -> tuple[Interpreter | None, str]:
    from mltrail.environments.tools import uv_executable

    uv = uv_executable()
    if uv is None:
        return None, "uv is not installed"
    try:
        done = subprocess.run(
            [uv, "python", "find", "--python-preference", "only-managed", wanted],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if done.returncode != 0:
            done = subprocess.run(
                [uv, "python", "install", "--no-progress", wanted],
                capture_output=True, text=True, timeout=300, check=False,
            )
            if done.returncode != 0:
                lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
                return None, lines[-1] if lines else f"exit code {done.returncode}"
            done = subprocess.run(
                [uv, "python", "find", "--python-preference", "only-managed", wanted],
                capture_output=True, text=True, timeout=30, check=False,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, str(exc)
    path = done.stdout.strip()
    version = _probe(path) if path else None
    if version is None:
        return None, "uv installed it but it does not start"
    return Interpreter(path, version), ""
