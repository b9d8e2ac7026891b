"""Importing ``skops.io`` without its start-up cost.

On import, skops computes its lists of trusted type names (``skops.io._trusted_types``): it
imports every scikit-learn module (which also imports PyTorch when it is installed) and walks
NumPy's and SciPy's ufuncs: seconds, on every model load, before a scoring server can answer.
The lists depend only on the installed scikit-learn, skops, NumPy and SciPy, so they are
computed the real way once, kept in a cache file keyed by those versions, and on later imports
that module is provided from the cache (the same names, so the same trust decisions).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
import types
from typing import Any

_MODULE = "skops.io._trusted_types"
_SUFFIX = "_TYPE_NAMES"


def _cache_file() -> str:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    versions = "-".join(
        f"{dist}{importlib.metadata.version(dist)}"
        for dist in ("skops", "scikit-learn", "numpy", "scipy")
    )
    return os.path.join(root, "mltrail", "skops", f"trusted-types-{versions}.json")


def _read(path: str) -> dict[str, list[str]] | None:
    try:
        with open(path, encoding="utf-8") as f:
            names = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(names, dict) or "SKLEARN_ESTIMATOR_TYPE_NAMES" not in names:
        return None
    if not all(
        k.endswith(_SUFFIX) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in names.items()
    ):
        return None
    return names


def _write(path: str, names: dict[str, list[str]]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(names, f)
        os.replace(tmp, path)
    except OSError:
        pass  # no cache: the next import is slow again, nothing else changes


def trusted_type_names() -> dict[str, list[str]] | None:
    """skops's default trusted-name lists from the cache, or None until a first real import of
    ``skops.io`` has written them."""
    return _read(_cache_file())


def import_skops_io() -> Any:
    """``skops.io``, imported fast when the trusted-name lists are cached."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    path = _cache_file()
    names = _read(path)
    if names is None:
        import skops.io

        real = sys.modules[_MODULE]
        _write(
            path,
            {
                k: list(v)
                for k, v in vars(real).items()
                if k.endswith(_SUFFIX) and isinstance(v, list)
            },
        )
        return skops.io
    module = types.ModuleType(_MODULE)
    module.__dict__.update(names)
    module.__doc__ = "Trusted type names, from mltrail's cache of skops's own lists."
    sys.modules[_MODULE] = module
    try:
        import skops.io
    except BaseException:
        sys.modules.pop(_MODULE, None)
        raise
    return skops.io


def type_modules(path: str) -> set[str]:
    """The modules of every type a skops file names (read from its ``schema.json``, nothing is
    loaded); empty when the file cannot be read as skops."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return set()
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module = node.get("__module__")
            if isinstance(module, str):
                found.add(module)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
