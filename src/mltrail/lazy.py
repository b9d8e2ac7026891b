"""Package attributes loaded on first use (a package's ``__getattr__`` and ``__dir__``).

``import mltrail``, ``mltrail.entities`` and ``mltrail.tracking`` list names whose modules load
when a name is first read, so importing a small part of a package does not build the rest. A
name read once is stored in the package, so later reads are plain attribute lookups; any
``package.<submodule>`` still resolves without being imported first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any


def names_by_module(groups: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{name: module}`` from ``(module, "space separated names")`` pairs."""
    return {name: module for module, names in groups for name in names.split()}


def lazy_attributes(
    package: str, lazy: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose globals are ``namespace``: each
    name in ``lazy`` comes from its module, and any other name from the submodule so called."""

    def getattr_(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                # Only a missing submodule itself means "no such attribute"; a missing
                # dependency inside an existing one is a real error.
                if exc.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return getattr_, dir_
