"""The fluent API's state: the active runs, the active experiment and the tracking URI,
each in a ``contextvars.ContextVar`` so that threads, asyncio tasks and autologging
callbacks cannot disturb one another's.

- **Active runs** belong to a context. A new thread starts with none (as in MLflow, whose
  stack is thread-local): a run started in the main thread is not the active run of a
  worker thread, which logs to it with ``run_id=`` or starts its own. An asyncio task (or a
  callback run with ``contextvars.copy_context().run``) starts with the runs active where it
  was made; a run it starts or ends is its own, so concurrent tasks never end each other's
  runs. The stack is an immutable tuple: a copied context shares nothing it could change.
- **The active experiment and the tracking URI** are settings of the whole process, as in
  MLflow: a thread or task sees the value set last anywhere, unless it has set one itself,
  which then holds for it (and for the tasks it creates).

``reset()`` puts all of it back to the start (for tests).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")
_UNSET: Any = object()


class Setting(Generic[_T]):
    """A process-wide value that a context which sets it keeps for itself."""

    __slots__ = ("_default", "_process", "_var")

    def __init__(self, name: str, default: _T) -> None:
        self._var: ContextVar[Any] = ContextVar(name, default=_UNSET)
        self._default = default
        self._process = default

    def get(self) -> _T:
        value = self._var.get()
        return self._process if value is _UNSET else value

    def set(self, value: _T) -> None:
        self._process = value
        self._var.set(value)

    def reset(self) -> None:
        self._process = self._default
        self._var.set(_UNSET)
