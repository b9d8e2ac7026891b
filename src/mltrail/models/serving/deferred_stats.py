"""``scipy.stats`` imported on first use, not while a scoring server loads its model.

Guarantees, first:

* every use of ``scipy.stats`` behaves as with the real module: the first attribute read (or
  call of a name taken from it) imports the real module, once, under a lock, and from then on
  ``sys.modules["scipy.stats"]`` and ``scipy.stats`` are the real module;
* while :func:`stats_deferred` is active, a module being imported may take only the names in
  :data:`FORWARDED` from it (``from scipy.stats import rankdata``); it gets a function that
  calls the real one. Any other name imports the real module right away: slower, never wrong;
* nothing changes when ``scipy.stats`` is already imported, or when SciPy is not installed.

Why: scikit-learn imports ``scipy.stats`` as it is imported (its metrics take ``rankdata``, its
link functions ``gmean``, its fixes module uses ``mode``), which is about a third of a scoring
server's start-up, while predicting with the common estimators never calls it. A model whose
prediction does use it (k-nearest neighbours' vote uses ``mode``) pays that import on its first
request instead.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_NAME = "scipy.stats"
FORWARDED = frozenset({"rankdata", "gmean", "chi2", "spearmanr"})
_lock = threading.RLock()


def _real() -> types.ModuleType:
    with _lock:
        current = sys.modules.get(_NAME)
        if current is not None and not isinstance(current, _DeferredStats):
            return current
        sys.modules.pop(_NAME, None)
        try:
            real = importlib.import_module(_NAME)
        except BaseException:
            if current is not None:
                sys.modules[_NAME] = current
            raise
        scipy = sys.modules.get("scipy")
        if scipy is not None:
            vars(scipy)["stats"] = real
        return real


def _forwarder(name: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = _NAME
    forward.__doc__ = f"scipy.stats.{name}, imported on first call."
    return forward


class _DeferredStats(types.ModuleType):
    """Stands in for ``scipy.stats`` in ``sys.modules`` until something uses it."""

    forwarding = False

    def __getattr__(self, name: str) -> Any:  # only for names not set on the module
        if self.forwarding and name in FORWARDED:
            return _forwarder(name)
        # Without ``__path__`` while forwarding, ``from scipy.stats import x`` reads ``x`` as an
        # attribute instead of looking for a submodule (which needs the real package).
        dunder = name.startswith("__") and name.endswith("__")
        if dunder and (name != "__path__" or self.forwarding):
            raise AttributeError(name)
        return getattr(_real(), name)


def _stand_in() -> _DeferredStats | None:
    current = sys.modules.get(_NAME)
    if isinstance(current, _DeferredStats):
        return current
    if current is not None:
        return None  # already imported: nothing to defer
    try:
        scipy = importlib.import_module("scipy")
    except ImportError:
        return None
    stand_in = _DeferredStats(_NAME, "scipy.stats, imported on first use")
    sys.modules[_NAME] = stand_in
    vars(scipy)["stats"] = stand_in
    return stand_in


@contextmanager
def stats_deferred() -> Iterator[None]:
    """Within: imports taking names from ``scipy.stats`` get forwarders (see module doc)."""
    stand_in = _stand_in()
    if stand_in is None:
        yield
        return
    stand_in.forwarding = True
    try:
        yield
    finally:
        stand_in.forwarding = False
