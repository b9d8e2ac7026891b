"""Metric writes and reads: packed series chunks (``series.py``) plus the per-run summary
kept beside them."""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator, Sequence
from itertools import groupby, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.entities import Metric
from mltrail.store.base import PointRow
from mltrail.store.sql import series
from mltrail.store.sql.common import DriverSql, has_upsert
from mltrail.store.sql.schema import latest_metrics, metric_chunks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect

_MYSQL_DOUBLE_MAX = 1.7976931348623157e308
# A series whose small chunks (say, one point per REST call) pile up is re-packed once it has
# this many, so a history read never fetches thousands of rows.
SMALL_CHUNK_POINTS = 1024
COMPACT_AT_SMALL_CHUNKS = 32

_by_key = itemgetter(0)


def metric_point_rows(points: Sequence[Metric]) -> list[PointRow]:
    return [(m.key, m.value, m.timestamp, m.step) for m in points]


def columns_by_key(rows: Sequence[PointRow]) -> dict[str, series.Columns]:
    """Each key's points as columns, sorted and free of duplicates."""
    first_key = rows[0][0]
    if all(r[0] == first_key for r in rows):
        groups: Any = [(first_key, rows)]
    else:
        groups = groupby(sorted(rows, key=_by_key), key=_by_key)
    found = {}
    for key, group in groups:
        _, values, timestamps, steps = zip(*group, strict=True)
        found[key] = series.normalized(timestamps, steps, values)
    return found


def writes_on_driver(dialect: Dialect) -> bool:
    """Whether ``write_metrics`` can run on a bare driver connection: it needs an upsert
    (PostgreSQL; SQLite from 3.24). MySQL needs a SQLAlchemy ``Connection``."""
    return has_upsert(dialect)


def _has_returning(dialect: Dialect) -> bool:
    if dialect.name == "postgresql":
        return True
    return (dialect.server_version_info or (0,)) >= (3, 35)  # SQLite


def write_metrics(conn: Any, run_id: str, rows: Sequence[PointRow]) -> None:
    """Merge points into the run's summaries (creating their series), then store them as one
    chunk per key, re-packing a series whose small chunks have piled up.

    ``conn`` is a SQLAlchemy ``Connection``, or a ``DriverConnection`` where
    ``writes_on_driver`` says so."""
    if not rows:
        return
    dialect = conn.dialect
    pieces = {key: series.split(cols) for key, cols in columns_by_key(rows).items()}
    summaries = [
        _summary(run_id, key, cols_list, dialect.name) for key, cols_list in pieces.items()
    ]
    if not writes_on_driver(dialect):
        found = _merge_summaries_portably(conn, run_id, summaries)
    elif _has_returning(dialect):
        found = [_UPSERT_SUMMARY.fetchall(conn, _summary_params(s))[0] for s in summaries]
    else:  # SQLite before 3.35: upsert, then read the series back
        _UPSERT_SUMMARY_ONLY.executemany(conn, [_summary_params(s) for s in summaries])
        found = [_SUMMARY_OF_KEY.fetchall(conn, (run_id, s["key"]))[0] for s in summaries]
    ids = {key: sid for key, sid, _ in found}
    chunks = [_chunk_row(ids[key], cols) for key, cols_list in pieces.items() for cols in cols_list]
    _INSERT_CHUNK.executemany(conn, [_chunk_params(c) for c in chunks])
    crowded = [sid for _, sid, small in found if small >= COMPACT_AT_SMALL_CHUNKS]
    if crowded:
        _compact_small_chunks(conn, crowded)


# The statements of a metric batch, on the driver (see ``DriverSql``): SQLAlchemy's work per
# statement cost several times the statement itself for a run's handful of metrics.
_SUMMARY_FIELDS = (
    "run_uuid", "key", "value", "timestamp", "step", "is_nan", "min_value", "max_value",
    "small_chunks",
)  # fmt: skip
# The latest point is the one with the greatest step, then timestamp, then value (MLflow's
# rule: at a full tie the larger value wins, NaN counting as 0, which is what ``value`` holds
# for NaN; at equal values the one stored first stays). Min and max ignore NULL (a series of
# NaN only). One atomic statement, so concurrent writers to one run (many clients, many server
# workers) never lose a newer point.
_NEWER = (
    "(excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND (excluded.timestamp > latest_metrics.timestamp OR (excluded.timestamp = "
    "latest_metrics.timestamp AND excluded.value > latest_metrics.value))))"
)
_SUMMARY_COLUMNS = ", ".join(f'"{f}"' for f in _SUMMARY_FIELDS)
_SUMMARY_SLOTS = ", ".join("?" for _ in _SUMMARY_FIELDS)
_UPSERT_SUMMARY_TEXT = (
    f"INSERT INTO latest_metrics ({_SUMMARY_COLUMNS}) VALUES ({_SUMMARY_SLOTS}) "
    'ON CONFLICT (run_uuid, "key") DO UPDATE SET '
    + ", ".join(
        f'"{f}" = CASE WHEN {_NEWER} THEN excluded."{f}" ELSE latest_metrics."{f}" END'
        for f in ("value", "timestamp", "step", "is_nan")
    )
    + ", min_value = CASE WHEN latest_metrics.min_value IS NULL THEN excluded.min_value "
    "WHEN excluded.min_value IS NULL THEN latest_metrics.min_value "
    "WHEN excluded.min_value < latest_metrics.min_value THEN excluded.min_value "
    "ELSE latest_metrics.min_value END"
    ", max_value = CASE WHEN latest_metrics.max_value IS NULL THEN excluded.max_value "
    "WHEN excluded.max_value IS NULL THEN latest_metrics.max_value "
    "WHEN excluded.max_value > latest_metrics.max_value THEN excluded.max_value "
    "ELSE latest_metrics.max_value END"
    ", small_chunks = latest_metrics.small_chunks + excluded.small_chunks"
)
_UPSERT_SUMMARY = DriverSql(_UPSERT_SUMMARY_TEXT + ' RETURNING "key", series_id, small_chunks')
_UPSERT_SUMMARY_ONLY = DriverSql(_UPSERT_SUMMARY_TEXT)
_SUMMARY_OF_KEY = DriverSql(
    'SELECT "key", series_id, small_chunks FROM latest_metrics WHERE run_uuid = ? AND "key" = ?'
)
_CHUNK_FIELDS = ("series_id", "points", "first_step", "last_step", "data")
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


def _summary_params(summary: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(summary[f] for f in _SUMMARY_FIELDS)


def _chunk_params(chunk: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(chunk[f] for f in _CHUNK_FIELDS)


def _chunk_row(series_id: int, cols: series.Columns) -> dict[str, Any]:
    timestamps, steps, values = cols
    return {
        "series_id": series_id,
        "points": len(timestamps),
        "first_step": min(steps),
        "last_step": max(steps),
        "data": series.encode(timestamps, steps, values),
    }


def _summary(run_id: str, key: str, pieces: list[series.Columns], dialect: str) -> dict[str, Any]:
    cols = pieces[0] if len(pieces) == 1 else series.merged(pieces)
    timestamps, steps, values = cols
    latest = series.latest_index(cols)
    value = values[latest]
    is_nan = value != value
    low, high = series.value_range(values)
    if dialect == "mysql":  # MySQL has no infinities
        value, low, high = (_finite(x) for x in (value, low, high))
    return {
        "run_uuid": run_id,
        "key": key,
        "timestamp": timestamps[latest],
        "step": steps[latest],
        "value": 0.0 if is_nan else value,
        "is_nan": is_nan,
        "min_value": low,
        "max_value": high,
        "small_chunks": sum(len(p[0]) < SMALL_CHUNK_POINTS for p in pieces),
    }


def _finite(x: Any) -> Any:
    if isinstance(x, float) and math.isinf(x):
        return math.copysign(_MYSQL_DOUBLE_MAX, x)
    return x


def _compact_small_chunks(conn: Any, crowded: list[int]) -> None:
    """Re-pack the small chunks of each crowded series into as few chunks as fit.

    Writers to one series are serialized by the summary row they just upserted, so no other
    transaction can re-pack the same chunks at the same time."""
    for sid in crowded:
        small = _SMALL_CHUNKS.fetchall(conn, (sid, SMALL_CHUNK_POINTS))
        cols = series.merged([series.decode(data, n) for _, n, data in small])
        packed = [_chunk_row(sid, piece) for piece in series.split(cols)]
        _DELETE_CHUNK.executemany(conn, [(chunk_id,) for chunk_id, _, _ in small])
        _INSERT_CHUNK.executemany(conn, [_chunk_params(c) for c in packed])
        still_small = sum(c["points"] < SMALL_CHUNK_POINTS for c in packed)
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


def _merge_summaries_portably(
    conn: Connection, run_id: str, summaries: list[dict[str, Any]]
) -> list[tuple[str, int, int]]:
    """The summary merge where there is no upsert (MySQL): rows locked, then inserted or
    updated; returns (key, series_id, small chunks) of each."""
    keys = [s["key"] for s in summaries]
    existing = {
        row.key: row._asdict()
        for row in conn.execute(
            sa.select(latest_metrics)
            .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key.in_(keys))
            .with_for_update()
        )
    }
    for summary in summaries:
        old = existing.get(summary["key"])
        if old is None:
            conn.execute(latest_metrics.insert(), summary)
            continue
        merged = (
            dict(summary)
            if _is_newer(summary, old)
            else {k: old[k] for k in ("value", "timestamp", "step", "is_nan")}
        )
        merged["small_chunks"] = old["small_chunks"] + summary["small_chunks"]
        merged["min_value"] = _min_none(old["min_value"], summary["min_value"])
        merged["max_value"] = _max_none(old["max_value"], summary["max_value"])
        conn.execute(
            latest_metrics.update()
            .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key == summary["key"])
            .values({k: v for k, v in merged.items() if k not in ("run_uuid", "key")})
        )
    c = latest_metrics.c
    return [
        tuple(r)
        for r in conn.execute(
            sa.select(c.key, c.series_id, c.small_chunks).where(
                c.run_uuid == run_id, c.key.in_(keys)
            )
        )
    ]


def _is_newer(new: dict[str, Any], old: dict[str, Any]) -> bool:
    # The same rule as the upsert's CASE (``value`` holds 0 for NaN).
    return (new["step"], new["timestamp"], new["value"]) > (
        old["step"], old["timestamp"], old["value"]
    )


def _min_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


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
