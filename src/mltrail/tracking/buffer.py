"""Buffered writes: ``log_metric`` appends to a queue and returns; a background thread sends
the queue to the store in batches.

Guarantees: points are written in the order they were logged; ``flush()`` returns only when
everything logged before it is stored; an error met in the background is raised by the next
call into the buffer (and so no later than ``end_run``), and the failed batch is kept out of
the queue so a retry does not duplicate what already landed.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.entities import Metric, Param, RunTag

FLUSH_INTERVAL_SECONDS = 0.2
FLUSH_AT_ITEMS = 5000

# (run_id, item) pairs; item is a Metric, Param or RunTag.
_Item = tuple[str, Any]
WriteBatch = Callable[[str, Sequence[Metric], Sequence[Param], Sequence[RunTag]], None]

_live_buffers: weakref.WeakSet[WriteBuffer] = weakref.WeakSet()


class WriteBuffer:
    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._queue: deque[_Item] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        _live_buffers.add(self)

    # -- producer side (the user's thread) ---------------------------------------------------
    def add(self, run_id: str, item: Metric | Param | RunTag) -> None:
        if self._error is not None:
            self._raise_pending()
        self._queue.append((run_id, item))
        if self._thread is None or self._pid != os.getpid():
            self._start_thread()
        if len(self._queue) >= FLUSH_AT_ITEMS and not self._wake.is_set():
            self._wake.set()

    def flush(self, run_id: str | None = None) -> None:
        """Write everything queued so far; raise the first background error, if any."""
        self._drain()
        self._raise_pending()

    def _raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    # -- consumer side -----------------------------------------------------------------------
    def _start_thread(self) -> None:
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="mltrail-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_INTERVAL_SECONDS)
            self._wake.clear()
            try:
                self._drain()
            except BaseException as exc:  # noqa: BLE001 - handed to the user's thread
                self._error = self._error or exc

    def _drain(self) -> None:
        with self._flush_lock:
            while self._queue:
                batch = []
                while self._queue and len(batch) < FLUSH_AT_ITEMS * 2:
                    batch.append(self._queue.popleft())
                self._write(batch)

    def _write(self, batch: list[_Item]) -> None:
        # Group by run, keeping each run's items in logged order.
        by_run: dict[str, tuple[list[Metric], dict[str, Param], dict[str, RunTag]]] = {}
        for run_id, item in batch:
            metrics, params, tags = by_run.setdefault(run_id, ([], {}, {}))
            if isinstance(item, Metric):
                metrics.append(item)
            elif isinstance(item, Param):
                params[item.key] = item
            else:
                tags[item.key] = item
        first_error: BaseException | None = None
        for run_id, (metrics, params, tags) in by_run.items():
            try:
                self._write_batch(run_id, metrics, list(params.values()), list(tags.values()))
            except BaseException as exc:  # noqa: BLE001 - other runs still get their data
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def close(self) -> None:
        try:
            self._drain()
        finally:
            self._closed = True
            self._wake.set()


def _flush_all_at_exit() -> None:
    for buffer in list(_live_buffers):
        try:
            buffer.close()
        except Exception as exc:  # noqa: BLE001 - the interpreter is going away; say it loudly
            import sys

            sys.stderr.write(f"mltrail: could not write buffered data at exit: {exc}\n")


atexit.register(_flush_all_at_exit)
