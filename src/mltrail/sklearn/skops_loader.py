"""Importing ``skops.io`` without its start-up cost.

On import, skops builds its list of trusted scikit-learn type names by importing every
scikit-learn module (``sklearn.utils.all_estimators``), which also imports PyTorch when it is
installed: seconds, on every model load, before a scoring server can answer. The list only
depends on the installed scikit-learn and skops, so it is computed the slow way once, kept in
a cache file keyed by both versions, and handed to skops as lightweight stand-ins (a name and
a module: all skops reads from them) on later imports. The trust decisions are unchanged.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
from typing import Any


def _cache_file(sklearn_version: str) -> str:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    skops_version = importlib.metadata.version("skops")
    name = f"estimators-sklearn{sklearn_version}-skops{skops_version}.json"
    return os.path.join(root, "mltrail", "skops", name)


def _read(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8") as f:
            names = json.load(f)
    except (OSError, ValueError):
        return None
    if isinstance(names, list) and names and all(isinstance(n, str) and "." in n for n in names):
        return names
    return None


def _write(path: str, names: list[str]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(names, f)
        os.replace(tmp, path)
    except OSError:
        pass  # no cache: the next import is slow again, nothing else changes


def import_skops_io() -> Any:
    """``skops.io``, imported fast when the trusted-name list is cached."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import sklearn
    import sklearn.utils

    path = _cache_file(sklearn.__version__)
    names = _read(path)
    if names is None:
        import skops.io
        from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES

        _write(path, list(SKLEARN_ESTIMATOR_TYPE_NAMES))
        return skops.io
    stand_ins = []
    for full in names:
        module, _, name = full.rpartition(".")
        stand_ins.append((name, type(name, (), {"__module__": module})))
    original = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda type_filter=None: list(stand_ins)
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators = original
    return skops.io
