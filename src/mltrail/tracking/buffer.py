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
FinishRun = Callable[[list[Metric], list[Param], list[RunTag]], Any]

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

    def flush_finishing(self, run_id: str, finish: FinishRun) -> Any:
        """Write everything queued, handing ``run_id``'s own items to ``finish`` (which writes
        them together with the run's end, in one go) instead of writing them apart."""
        with self._flush_lock:
            batch = []
            while self._queue:
                batch.append(self._queue.popleft())
            mine = [item for rid, item in batch if rid == run_id]
            try:
                self._write([(rid, item) for rid, item in batch if rid != run_id])
            finally:
                metrics, params, tags = _grouped(mine)
                result = finish(metrics, params, tags)
        self._raise_pending()
        return result

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
        by_run: dict[str, list[Any]] = {}
        for run_id, item in batch:
            by_run.setdefault(run_id, []).append(item)
        first_error: BaseException | None = None
        for run_id, items in by_run.items():
            try:
                self._write_batch(run_id, *_grouped(items))
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


def _grouped(items: list[Any]) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Split one run's items, in logged order, into metrics, params and tags (the last value
    of a repeated param or tag key wins, as it would have written one after the other)."""
    metrics: list[Metric] = []
    params: dict[str, Param] = {}
    tags: dict[str, RunTag] = {}
    for item in items:
        if isinstance(item, Metric):
            metrics.append(item)
        elif isinstance(item, Param):
            params[item.key] = item
        else:
            tags[item.key] = item
    return metrics, list(params.values()), list(tags.values())


def _flush_all_at_exit() -> None:
    for buffer in list(_live_buffers):
        try:
            buffer.close()
        except Exception as exc:  # noqa: BLE001 - the interpreter is going away; say it loudly
            import sys

            sys.stderr.write(f"mltrail: could not write buffered data at exit: {exc}\n")


atexit.register(_flush_all_at_exit)
