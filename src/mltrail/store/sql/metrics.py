"""Metric writes and reads: packed series chunks (``series.py``) plus the per-run summary
kept beside them (``summaries.py``)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.entities import Metric
from mltrail.store.points import PointColumns, PointRow
from mltrail.store.sql import series, summaries
from mltrail.store.sql.common import DriverSql, has_upsert
from mltrail.store.sql.schema import latest_metrics, metric_chunks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect

SMALL_CHUNK_POINTS = summaries.SMALL_CHUNK_POINTS
COMPACT_AT_SMALL_CHUNKS = 32

# Grouping a batch's columns by key with one C-level pass per key and column beats a Python
# loop over the points up to about this many keys.
_GROUP_BY_MASKS_UP_TO_KEYS = 16


def metric_point_rows(points: Sequence[Metric]) -> list[PointRow]:
    return [(m.key, m.value, m.timestamp, m.step) for m in points]


def columns_by_key(rows: Sequence[PointRow]) -> dict[str, series.Columns]:
    """Each key's points as columns, sorted and free of duplicates. The work is done on
    columns (``PointColumns``), in C-level passes with no object per point: a buffer flush
    hands tens of thousands of points over, beside the user's training loop."""
    batch = PointColumns.of(rows)
    # Sorted: concurrent writers then lock a run's summary rows in one order (no deadlock).
    keys = sorted(set(batch.keys))
    if len(keys) == 1:
        groups = [(keys[0], batch.timestamps, batch.steps, batch.values)]
    elif len(keys) <= _GROUP_BY_MASKS_UP_TO_KEYS:
        groups = []
        for key in keys:
            mask = list(map(key.__eq__, batch.keys))
            groups.append(
                (
                    key,
                    list(compress(batch.timestamps, mask)),
                    list(compress(batch.steps, mask)),
                    list(compress(batch.values, mask)),
                )
            )
    else:
        by_key: dict[str, series.Columns] = {key: ([], [], []) for key in keys}
        for key, value, timestamp, step in batch:
            cols = by_key[key]
            cols[0].append(timestamp)
            cols[1].append(step)
            cols[2].append(value)
        groups = [(key, *cols) for key, cols in by_key.items()]
    return {key: series.normalized(ts, steps, values) for key, ts, steps, values in groups}


def writes_on_driver(dialect: Dialect) -> bool:
    """Whether ``write_metrics`` can run on a bare driver connection: it needs an upsert
    (PostgreSQL; SQLite from 3.24). MySQL needs a SQLAlchemy ``Connection``."""
    return has_upsert(dialect)


def write_metrics(conn: Any, run_id: str, rows: Sequence[PointRow]) -> None:
    """Merge points into the run's summaries (creating their series), then store them as one
    chunk per key, re-packing a series whose small chunks have piled up.

    ``conn`` is a SQLAlchemy ``Connection``, or a ``DriverConnection`` where
    ``writes_on_driver`` says so."""
    if not rows:
        return
    pieces = {key: series.split(cols) for key, cols in columns_by_key(rows).items()}
    name = conn.dialect.name
    found = summaries.merge(
        conn,
        run_id,
        [summaries.summary_row(run_id, key, cols_list, name) for key, cols_list in pieces.items()],
    )
    ids = {key: sid for key, sid, _ in found}
    _INSERT_CHUNK.executemany(
        conn,
        [_chunk_row(ids[key], cols) for key, cols_list in pieces.items() for cols in cols_list],
    )
    crowded = [sid for _, sid, small in found if small >= COMPACT_AT_SMALL_CHUNKS]
    if crowded:
        _compact_small_chunks(conn, crowded)


# The statements of a metric batch, on the driver (see ``DriverSql``): SQLAlchemy's work per
# statement cost several times the statement itself for a run's handful of metrics.
_INSERT_CHUNK = DriverSql(
    "INSERT INTO metric_chunks (series_id, points, first_step, last_step, data) "
    "VALUES (?, ?, ?, ?, ?)"
)
_SMALL_CHUNKS = DriverSql(
    "SELECT chunk_id, points, data FROM metric_chunks WHERE series_id = ? AND points < ? "
    "ORDER BY chunk_id"
)
_DELETE_CHUNK = DriverSql("DELETE FROM metric_chunks WHERE chunk_id = ?")
_SET_SMALL_CHUNKS = DriverSql("UPDATE latest_metrics SET small_chunks = ? WHERE series_id = ?")


def _chunk_row(series_id: int, cols: series.Columns) -> tuple[int, int, int, int, bytes]:
    """A chunk as ``_INSERT_CHUNK`` takes it."""
    timestamps, steps, values = cols
    n = len(steps)
    if n == 1:
        return series_id, 1, steps[0], steps[0], series.encode(timestamps, steps, values)
    return series_id, n, min(steps), max(steps), series.encode(timestamps, steps, values)


def _compact_small_chunks(conn: Any, crowded: list[int]) -> None:
    """Re-pack the small chunks of each crowded series into as few chunks as fit.

    Writers to one series are serialized by the summary row they just upserted, so no other
    transaction can re-pack the same chunks at the same time."""
    for sid in crowded:
        small = _SMALL_CHUNKS.fetchall(conn, (sid, SMALL_CHUNK_POINTS))
        cols = series.merged([series.decode(data, n) for _, n, data in small])
        packed = [_chunk_row(sid, piece) for piece in series.split(cols)]
        _DELETE_CHUNK.executemany(conn, [(chunk_id,) for chunk_id, _, _ in small])
        _INSERT_CHUNK.executemany(conn, packed)
        still_small = sum(c[1] < SMALL_CHUNK_POINTS for c in packed)
        _SET_SMALL_CHUNKS.execute(conn, (still_small, sid)).close()


def series_ids(conn: Connection, run_id: str, keys: Sequence[str]) -> dict[str, int]:
    """The series id of each of a run's metric keys that has one."""
    found = conn.execute(
        sa.select(latest_metrics.c.key, latest_metrics.c.series_id).where(
            latest_metrics.c.run_uuid == run_id, latest_metrics.c.key.in_(list(keys))
        )
    ).all()
    return dict(found)


def series_id(conn: Connection, run_id: str, key: str) -> int | None:
    return series_ids(conn, run_id, [key]).get(key)


def _chunks_query(
    conn: Connection, run_id: str, key: str, start_step: int | None, end_step: int | None
) -> Any:
    """The (points, data) rows of one run's metric in chunk order, or None if it has none;
    chunks wholly outside the step range, if one is given, are left out."""
    sid = series_id(conn, run_id, key)
    if sid is None:
        return None
    c = metric_chunks.c
    query = sa.select(c.points, c.data).where(c.series_id == sid).order_by(c.chunk_id)
    if start_step is not None:
        query = query.where(c.last_step >= start_step)
    if end_step is not None:
        query = query.where(c.first_step <= end_step)
    return conn.execute(query)


def series_columns(
    conn: Connection,
    run_id: str,
    key: str,
    start_step: int | None = None,
    end_step: int | None = None,
) -> series.Columns:
    """All points of one run's metric in history order (with a step range, only the chunks
    that overlap it; the points themselves are not filtered)."""
    rows = _chunks_query(conn, run_id, key, start_step, end_step)
    if rows is None:
        return [], [], []
    return series.merged([series.decode(data, n) for n, data in rows])


def series_arrays(
    conn: Connection,
    run_id: str,
    key: str,
    start_step: int | None = None,
    end_step: int | None = None,
) -> tuple[Any, Any, Any]:
    """Like ``series_columns`` but as NumPy arrays, neither sorted nor free of duplicates:
    for aggregates over many points, which need neither."""
    import numpy as np

    rows = _chunks_query(conn, run_id, key, start_step, end_step)
    parts = [series.decode_arrays(bytes(data), n) for n, data in rows or ()]
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float64)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def history(
    conn: Connection, run_id: str, key: str, offset: int, limit: int | None
) -> list[Metric]:
    rows = _chunks_query(conn, run_id, key, None, None)
    if rows is None:
        return []
    timestamps, steps, values = series.window(rows.all(), offset, limit)
    return metric_objects(key, run_id, timestamps, steps, values)


def metric_objects(
    key: str, run_id: str, timestamps: list[int], steps: list[int], values: list[float]
) -> list[Metric]:
    # Built by map() with the cyclic GC paused: otherwise it rescans the young points again
    # and again, a third of the time.
    with _gc_paused():
        return list(map(Metric, repeat(key), values, timestamps, steps, repeat(run_id)))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def in_step_order(
    timestamps: list[int], steps: list[int], values: list[float]
) -> list[tuple[int, int, float]]:
    """The points as (step, timestamp, value), sorted by step then timestamp."""
    return sorted(zip(steps, timestamps, values, strict=True), key=itemgetter(0, 1))


def sampled_history(
    conn: Connection,
    run_id: str,
    key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """At most ``max_results`` points of one run's metric, sampled as MLflow (3.18) samples
    them: the points in (step, timestamp) order are cut into ``max_results`` consecutive groups
    (the first ones one point larger when they do not divide evenly); each group gives its
    first point, except the last, which gives the very last point. One point asked: the last.
    Pinned against MLflow by the differential suite."""
    points = in_step_order(*series_columns(conn, run_id, key, start_step, end_step))
    lo = float("-inf") if start_step is None else start_step
    hi = float("inf") if end_step is None else end_step
    points = [p for p in points if lo <= p[0] <= hi]
    n = len(points)
    if n > max_results:
        size, extra = divmod(n, max_results)
        firsts = [points[i * size + min(i, extra)] for i in range(max_results - 1)]
        points = [*firsts, points[-1]]
    return [Metric(key, value, ts, step, run_id=run_id) for step, ts, value in points]
