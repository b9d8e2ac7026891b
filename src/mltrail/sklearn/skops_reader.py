"""Reading the common skops files without importing skops.

Guarantees, first:

* it builds an object only when skops itself would build the same one with the same trust:
  the file's every type must be in skops's default trusted lists (the cached copy kept by
  :mod:`mltrail.sklearn.skops_loader`) or in the ``trusted`` names the model's author listed;
* it understands a closed set of node kinds (``ObjectNode``, ``DictNode``, ``ListNode``,
  ``TupleNode``, ``TypeNode``, ``JsonNode``, ``NdArrayNode``, ``CachedNode``) in skops's
  protocol 2; any other kind, protocol, type or malformed part returns :data:`UNREAD` before
  anything is imported or built (an object that contains itself, found while building, too),
  and the caller loads the file with skops as before, which then explains (or refuses) it;
* arrays are read with ``numpy.load(allow_pickle=False)``; nothing is unpickled.

Why: importing ``skops.io`` imports its own handlers for every type it knows (scikit-learn's
clustering, trees and SGD modules among them), about a tenth of a scoring server's start-up,
while linear models, pipelines, scalers, SVMs and k-means use only the kinds above.

The rules followed are skops's (facts of its format, observed): nodes are checked before any is
built; a node whose ``__id__`` was met before is the earlier object (a later state with that id
is ignored); an object is made with ``cls.__new__`` and gets its attributes through
``__setstate__`` when it has one; dict keys are converted by the listed key types.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

UNREAD: Any = object()
"""Returned when the file holds something this reader leaves to skops."""

_PROTOCOL = 2
_OBJECT_LISTS = ("SKLEARN_ESTIMATOR_TYPE_NAMES", "SKLEARN_INTERNAL_TYPE_NAMES")
_TYPE_LISTS = ("PRIMITIVE_TYPE_NAMES", "CONTAINER_TYPE_NAMES", "NUMPY_DTYPE_TYPE_NAMES")


class _Unread(Exception):
    """Something this reader does not handle: the file goes to skops."""


class _Trust:
    def __init__(self, names: dict[str, list[str]], extra: Sequence[str]) -> None:
        given = set(extra)
        self.objects = given.union(*(names.get(k, []) for k in _OBJECT_LISTS))
        self.types = given.union(*(names.get(k, []) for k in _TYPE_LISTS))
        self.dtypes = given | set(names.get("NUMPY_DTYPE_TYPE_NAMES", [])) | {"numpy.ndarray"}
        self.given = given


def _name(state: dict[str, Any]) -> str:
    module, cls = state.get("__module__"), state.get("__class__")
    if not isinstance(module, str) or not isinstance(cls, str):
        raise _Unread
    return f"{module}.{cls}"


class _Checker:
    """Pass one: every node is of a known kind and a trusted type (nothing is built)."""

    def __init__(self, trust: _Trust) -> None:
        self.trust = trust
        self.seen: set[Any] = set()

    def check(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise _Unread
        saved_id = state.get("__id__")
        if saved_id and saved_id in self.seen:
            return
        kind = state.get("__loader__")
        name = _name(state)
        if kind == "CachedNode":
            if saved_id not in self.seen:
                raise _Unread
            return
        if saved_id:
            self.seen.add(saved_id)
        check = getattr(self, f"_check_{kind}", None)
        if check is None:
            raise _Unread
        check(state, name)

    def _check_JsonNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        if not isinstance(state.get("content"), str):
            raise _Unread

    def _check_TypeNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        if name not in self.trust.types:
            raise _Unread

    def _check_DictNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        content = state.get("content")
        mappings = ("builtins.dict", "collections.OrderedDict")
        if name not in mappings and name not in self.trust.given:
            raise _Unread
        if not isinstance(content, dict):
            raise _Unread
        self.check(state.get("key_types"))
        for value in content.values():
            self.check(value)

    def _check_ListNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        self._check_sequence(state, name, "builtins.list")

    def _check_TupleNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        self._check_sequence(state, name, "builtins.tuple")

    def _check_sequence(self, state: dict[str, Any], name: str, expected: str) -> None:
        content = state.get("content")
        if name != expected or not isinstance(content, list):
            raise _Unread
        for value in content:
            self.check(value)

    def _check_NdArrayNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        if name not in self.trust.dtypes:
            raise _Unread
        if state.get("type") == "numpy":
            if not isinstance(state.get("file"), str):
                raise _Unread
        elif state.get("type") == "json" and isinstance(state.get("content"), list):
            for item in state["content"]:
                self.check(item)
            self.check(state.get("shape"))
        else:
            raise _Unread

    def _check_ObjectNode(self, state: dict[str, Any], name: str) -> None:  # noqa: N802
        if name not in self.trust.objects:
            raise _Unread
        if state.get("content") is not None:
            self.check(state["content"])


class _Builder:
    """Pass two: the objects, built depth first, one per ``__id__``."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.memo: dict[Any, Any] = {}
        self.building: set[Any] = set()

    def build(self, state: dict[str, Any]) -> Any:
        saved_id = state.get("__id__")
        if saved_id and saved_id in self.memo:
            return self.memo[saved_id]
        if saved_id and saved_id in self.building:
            raise _Unread  # a cycle: skops reports it its own way
        if state["__loader__"] == "CachedNode":
            raise _Unread  # refers to an object still being built
        if saved_id:
            self.building.add(saved_id)
        value = getattr(self, f"_build_{state['__loader__']}")(state)
        if saved_id:
            self.building.discard(saved_id)
            self.memo[saved_id] = value
        return value

    def _build_JsonNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        return json.loads(state["content"])

    def _build_TypeNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        return _import(state)

    def _build_DictNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        result = _import(state)()
        key_types = self.build(state["key_types"])
        for key_type, (key, value) in zip(key_types, state["content"].items(), strict=False):
            result[key_type(key)] = self.build(value)
        return result

    def _build_ListNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        return [self.build(item) for item in state["content"]]

    def _build_TupleNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        return tuple(self.build(item) for item in state["content"])

    def _build_NdArrayNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        import numpy as np

        if state["type"] == "numpy":
            data = self.archive.read(state["file"])
            array = np.load(io.BytesIO(data), allow_pickle=False)
            if _name(state) != "numpy.ndarray":
                return _import(state)(array)  # a NumPy scalar, e.g. numpy.float64
            return array
        shape = self.build(state["shape"])
        items = [self.build(item) for item in state["content"]]
        if len(shape) == 1:
            array = np.empty(len(items), dtype=object)
            for i, item in enumerate(items):
                array[i] = item
            return array
        return np.array(items, dtype=object)

    def _build_ObjectNode(self, state: dict[str, Any]) -> Any:  # noqa: N802
        cls = _import(state)
        instance = cls.__new__(cls)
        if state.get("content") is None:
            return instance
        attrs = self.build(state["content"])
        if attrs is not None:
            if hasattr(instance, "__setstate__"):
                instance.__setstate__(attrs)
            else:
                instance.__dict__.update(attrs)
        return instance


def _import(state: dict[str, Any]) -> Any:
    module = importlib.import_module(state["__module__"])
    return getattr(module, state["__class__"])


def read(path: str, trusted_names: dict[str, list[str]], trusted: Sequence[str] = ()) -> Any:
    """The object in the skops file at ``path``, or :data:`UNREAD` when it holds anything
    outside this reader's kinds or trust (then nothing was imported or built)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return UNREAD
    with archive:
        try:
            schema = json.loads(archive.read("schema.json"))
        except (KeyError, ValueError):
            return UNREAD
        if not isinstance(schema, dict) or schema.get("protocol") != _PROTOCOL:
            return UNREAD
        try:
            _Checker(_Trust(trusted_names, trusted)).check(schema)
        except (_Unread, RecursionError):
            return UNREAD
        try:
            return _Builder(archive).build(schema)
        except _Unread:
            return UNREAD
