"""Loading a scikit-learn model for serving without importing pandas (or rich).

scikit-learn imports pandas when it is installed (only to keep a reference it never uses at
import time), and pandas with pyarrow is a large share of a scoring server's start-up; it also
imports rich for the progress bars of ``fit``, which a scoring server never shows. A model
saved with skops whose file names only scikit-learn, NumPy, SciPy and builtin types needs
neither to load, so it is loaded with both hidden; pandas is imported later, by the first
request that needs a DataFrame (see ``PandasGate``). Anything else loads the ordinary way.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mltrail.models.model import Model

_PANDAS_FREE_ROOTS = frozenset({"sklearn", "numpy", "scipy", "builtins"})


def loads_without_pandas(model_path: str) -> bool:
    """True for a skops scikit-learn model made only of pandas-free types (and no code)."""
    try:
        meta = Model.load(model_path)
    except Exception:  # noqa: BLE001 - unreadable here: the ordinary load explains why
        return False
    pyfunc = meta.flavors.get("python_function") or {}
    conf = meta.flavors.get("sklearn") or {}
    if set(meta.flavors) != {"python_function", "sklearn"} or pyfunc.get("code"):
        return False
    if conf.get("serialization_format") != "skops" or not conf.get("pickled_model"):
        return False
    if pyfunc.get("loader_module") != "mlflow.sklearn":
        return False
    from mltrail.sklearn.skops_loader import type_modules

    modules = type_modules(os.path.join(model_path, str(conf["pickled_model"])))
    return bool(modules) and all(m.split(".")[0] in _PANDAS_FREE_ROOTS for m in modules)


HIDDEN_MODULES = ("pandas", "rich")


@contextmanager
def optional_imports_hidden() -> Iterator[None]:
    """``import pandas`` (and ``import rich``) fail inside; both are importable afterwards."""
    hidden = [name for name in HIDDEN_MODULES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def pandas_loaded() -> bool:
    return sys.modules.get("pandas") is not None


class PandasGate:
    """Imports pandas, when a request first needs it, while no prediction runs.

    scikit-learn looks pandas up in ``sys.modules`` during ``predict``; a half-imported pandas
    there would fail a concurrent prediction. So the import waits for running predictions to
    finish and happens on the event loop thread, which starts no new one meanwhile.
    """

    def __init__(self) -> None:
        self._running = 0
        self.wanted = False

    async def run(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` in a worker thread, counted as a running prediction until it ends
        (a cancelled wait still lasts until the thread is done)."""
        from starlette.concurrency import run_in_threadpool

        self._running += 1  # only ever changed on the event loop thread
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            self._running -= 1

    async def ensure(self) -> None:
        if pandas_loaded():
            return
        self.wanted = True
        while self._running:
            await asyncio.sleep(0.001)
        if not pandas_loaded():
            import pandas  # noqa: F401 - the point: imported here, on the loop thread
        self.wanted = False
