"""Buffered writes: ``log_metric`` appends to a queue and returns; a background thread sends
the queue to the store in batches.

Guarantees: points are written in the order they were logged; ``flush()`` returns only when
everything logged before it is stored; an error met in the background is raised by the next
call into the buffer (and so no later than ``end_run``), and the failed batch is kept out of
the queue so a retry does not duplicate what already landed.

In a worker process (forked from a process that uses mltrail, a ``multiprocessing`` or
joblib child, a Spark Python worker) the buffer writes through: such processes often end with
``os._exit``, which runs no exit handler, so a point queued there could be lost.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat, starmap
from operator import itemgetter
from typing import Any

from mltrail.entities import Param, RunTag
from mltrail.exceptions import InvalidParameter
from mltrail.store.points import PointColumns, PointRow

FLUSH_INTERVAL_SECONDS = 0.2
FLUSH_AT_ITEMS = 5000

# A queued item: a metric point as (run_id, key, value, timestamp, step), or a param or tag as
# (run_id, Param | RunTag). Points are plain tuples of atoms: cheap to make, and the cyclic GC
# stops tracking them, so a queue of 100k points does not slow every collection.
_Item = tuple[Any, ...]
WriteBatch = Callable[[str, Sequence[PointRow], Sequence[Param], Sequence[RunTag]], None]
FinishRun = Callable[[Sequence[PointRow], list[Param], list[RunTag]], Any]

_live_buffers: weakref.WeakSet[WriteBuffer] = weakref.WeakSet()
_forked = False  # set in a child forked after mltrail was imported


def in_worker_process() -> bool:
    """Whether this process is a worker that may end without running exit handlers."""
    if _forked:
        return True
    if "PYTHON_WORKER_FACTORY_SECRET" in os.environ:  # a Spark Python worker (or its daemon)
        return True
    mp = sys.modules.get("multiprocessing")
    # multiprocessing (and joblib's loky) children have a parent process; the main one has not
    return mp is not None and mp.parent_process() is not None


class WriteBuffer:
    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._queue: deque[_Item] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        _live_buffers.add(self)
        if in_worker_process():
            self.write_through()

    def write_through(self) -> None:
        """From now on write each item at once (worker processes, see the module's doc). The
        methods are swapped on the instance, so the buffered hot path pays nothing for it."""
        self._queue.clear()  # a forked child's copy of its parent's queue: the parent writes it
        self._error = None
        self.add_point = self._write_point_now  # type: ignore[method-assign]
        self.add = self._write_item_now  # type: ignore[method-assign]

    def _write_point_now(
        self, run_id: str, key: str, value: float, timestamp: int, step: int
    ) -> None:
        self._write_batch(run_id, [(key, value, timestamp, step)], [], [])

    def _write_item_now(self, run_id: str, item: Param | RunTag) -> None:
        if isinstance(item, Param):
            self._write_batch(run_id, [], [item], [])
        else:
            self._write_batch(run_id, [], [], [item])

    # -- producer side (the user's thread) ---------------------------------------------------
    def add_point(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Queue a checked metric point (the training loop's hot path: keep it short)."""
        if self._error is not None:
            self._raise_pending()
        queue = self._queue
        queue.append((run_id, key, value, timestamp, step))
        if self._thread is None:
            self._start_thread()
        if len(queue) >= FLUSH_AT_ITEMS and not self._wake.is_set():
            self._wake.set()

    def add(self, run_id: str, item: Param | RunTag) -> None:
        if self._error is not None:
            self._raise_pending()
        self._queue.append((run_id, item))
        if self._thread is None:
            self._start_thread()

    def flush(self, run_id: str | None = None) -> None:
        """Write everything queued so far; raise the first background error, if any."""
        self._drain()
        self._raise_pending()

    def flush_finishing(self, run_id: str, finish: FinishRun) -> Any:
        """Write everything queued, handing ``run_id``'s own items to ``finish`` (which writes
        them together with the run's end, in one go) instead of writing them apart."""
        with self._flush_lock:
            by_run = _by_run(_take(self._queue, len(self._queue)))
            segments = _segments(by_run.pop(run_id, []))
            try:
                self._write_runs(by_run)
            finally:
                try:
                    self._write_segments(run_id, segments[:-1])
                finally:
                    result = self._finish(run_id, segments[-1], finish)
        self._raise_pending()
        return result

    def _raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    # -- consumer side -----------------------------------------------------------------------
    def _start_thread(self) -> None:
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
            queue = self._queue
            while queue:
                self._write_runs(_by_run(_take(queue, FLUSH_AT_ITEMS * 2)))

    def _write_runs(self, by_run: dict[str, list[_Item]]) -> None:
        first_error: BaseException | None = None
        for run_id, items in by_run.items():
            try:
                self._write_segments(run_id, _segments(items))
            except BaseException as exc:  # noqa: BLE001 - other runs still get their data
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def _write_segments(self, run_id: str, segments: list[list[_Item]]) -> None:
        """Write one run's segments in order; each is written even if an earlier one failed
        (a refused param must not take the points logged after it down with it)."""
        first_error: BaseException | None = None
        for segment in segments:
            points, params, tags = _grouped(segment)
            try:
                try:
                    self._write_batch(run_id, points, params, tags)
                except InvalidParameter:
                    if not params:
                        raise
                    # A refused param (a changed value) must not take the rest down with it.
                    self._write_batch(run_id, points, [], tags)
                    self._write_params_one_by_one(run_id, params)
            except BaseException as exc:  # noqa: BLE001 - raised once all are written
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def _finish(self, run_id: str, segment: list[_Item], finish: FinishRun) -> Any:
        points, params, tags = _grouped(segment)
        try:
            return finish(points, params, tags)
        except InvalidParameter:
            if not params:
                raise
            try:
                self._write_params_one_by_one(run_id, params)
            finally:
                finish(points, [], tags)

    def _write_params_one_by_one(self, run_id: str, params: list[Param]) -> None:
        first_error: InvalidParameter | None = None
        for param in params:
            try:
                self._write_batch(run_id, [], [param], [])
            except InvalidParameter as exc:
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def close(self) -> None:
        try:
            self._drain()
        finally:
            self._closed = True
            self._wake.set()


# The drain runs beside the user's training loop, holding the GIL: its passes over a batch
# are C-level (map, itemgetter, starmap) rather than Python loops wherever the common case
# (points only, one run) allows, and make no per-point objects they do not hand on.
_run_of = itemgetter(0)
_KEY, _VALUE, _TIMESTAMP, _STEP = (itemgetter(i) for i in range(1, 5))


def _take(queue: deque[_Item], most: int) -> list[_Item]:
    """Up to ``most`` items from the left of ``queue`` (producers keep appending on the
    right meanwhile; only the holder of the flush lock pops)."""
    return list(starmap(queue.popleft, repeat((), min(len(queue), most))))


def _by_run(batch: list[_Item]) -> dict[str, list[_Item]]:
    """The batch's items by run, each run's in logged order."""
    runs = set(map(_run_of, batch))
    if len(runs) <= 1:
        return {runs.pop(): batch} if runs else {}
    by_run: dict[str, list[_Item]] = {run_id: [] for run_id in runs}
    for item in batch:
        by_run[item[0]].append(item)
    return by_run


def _points_only(items: list[_Item]) -> bool:
    return not items or min(map(len, items)) == 5


def _segments(items: list[_Item]) -> list[list[_Item]]:
    """One run's items cut where a param is logged again with another value, so the store
    sees the change (and refuses it, as MLflow does) instead of one value silently replacing
    the other in a batch. Always at least one segment."""
    if _points_only(items):
        return [items]
    segments: list[list[_Item]] = [[]]
    seen: dict[str, str] = {}
    for item in items:
        if len(item) == 2 and isinstance(item[1], Param):
            key, value = item[1].key, item[1].value
            if seen.get(key, value) != value:
                segments.append([])
                seen = {}
            seen[key] = value
        segments[-1].append(item)
    return segments


def _grouped(items: list[_Item]) -> tuple[Sequence[PointRow], list[Param], list[RunTag]]:
    """Split one run's items, in logged order, into points, params and tags (the last value
    of a repeated tag key wins, as it would have written one after the other; a param's
    repeats have the same value, see ``_segments``)."""
    if _points_only(items):
        columns = (list(map(column, items)) for column in (_KEY, _VALUE, _TIMESTAMP, _STEP))
        return PointColumns(*columns), [], []
    points: list[PointRow] = []
    params: dict[str, Param] = {}
    tags: dict[str, RunTag] = {}
    for item in items:
        if len(item) == 5:
            points.append(item[1:])
        elif isinstance(item[1], Param):
            params[item[1].key] = item[1]
        else:
            tags[item[1].key] = item[1]
    return points, list(params.values()), list(tags.values())


def _forget_threads_after_fork() -> None:
    # A forked child has none of its parent's threads, and must not wait on a lock the
    # parent's writer held at fork time; it writes through (see the module's doc).
    global _forked
    _forked = True
    for buffer in list(_live_buffers):
        buffer._thread = None
        buffer._flush_lock = threading.Lock()
        buffer._wake = threading.Event()
        buffer.write_through()


os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _flush_all_at_exit() -> None:
    for buffer in list(_live_buffers):
        try:
            buffer.close()
        except Exception as exc:  # noqa: BLE001 - the interpreter is going away; say it loudly
            import sys

            sys.stderr.write(f"mltrail: could not write buffered data at exit: {exc}\n")


atexit.register(_flush_all_at_exit)
