"""Run a callback once a module is imported: now if it already is, else right after its
import finishes. ``mltrail.autolog()`` uses this so it never imports torch or sklearn itself
(seconds of start-up for a script that may not use them)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

Callback = Callable[[ModuleType], None]

_lock = threading.RLock()
_waiting: dict[str, list[Callback]] = {}
# Modules whose code has run (their import machinery may still be finishing when callbacks
# fire, and a callback may itself ask for the module it was called for).
_executed: set[str] = set()


def when_imported(module_name: str, callback: Callback) -> None:
    module = sys.modules.get(module_name)
    if module is not None and (module_name in _executed or not _is_initialising(module)):
        callback(module)
        return
    with _lock:
        _waiting.setdefault(module_name, []).append(callback)
        if not any(isinstance(f, _HookFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _HookFinder())


def _is_initialising(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _fire(module: ModuleType) -> None:
    with _lock:
        callbacks = _waiting.pop(module.__name__, [])
    for callback in callbacks:
        callback(module)


class _HookFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a watched name it asks the other finders and wraps the
    loader so the callbacks run after the module's code."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _waiting:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _LoaderThenHooks(spec.loader)
                return spec
        return None


class _LoaderThenHooks(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._inner.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        _executed.add(module.__name__)
        _fire(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package...
        return getattr(self._inner, name)
