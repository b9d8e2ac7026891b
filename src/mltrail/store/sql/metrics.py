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
from mltrail.store.sql.schema import latest_metrics, metric_chunks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

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


def write_metrics(conn: Connection, run_id: str, rows: Sequence[PointRow]) -> None:
    """Merge points into the run's summaries (creating their series), then store them as one
    chunk per key, re-packing a series whose small chunks have piled up."""
    if not rows:
        return
    dialect = conn.dialect.name
    pieces = {key: series.split(cols) for key, cols in columns_by_key(rows).items()}
    summaries = [_summary(run_id, key, cols_list, dialect) for key, cols_list in pieces.items()]
    found = _merge_summaries(conn, run_id, summaries)
    ids = {key: sid for key, sid, _ in found}
    chunks = [_chunk_row(ids[key], cols) for key, cols_list in pieces.items() for cols in cols_list]
    _insert_chunks(conn, chunks)
    crowded = [sid for _, sid, small in found if small >= COMPACT_AT_SMALL_CHUNKS]
    if crowded:
        _compact_small_chunks(conn, crowded)


def _merge_summaries(
    conn: Connection, run_id: str, summaries: list[dict[str, Any]]
) -> list[tuple[str, int, int]]:
    """Upsert the summaries; return (key, series_id, small chunks) of each."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = _summary_upsert(dialect)
        if conn.dialect.insert_returning:  # one statement, no read-back (SQLite >= 3.35)
            c = latest_metrics.c
            returned = conn.execute(stmt.returning(c.key, c.series_id, c.small_chunks), summaries)
            return [tuple(r) for r in returned]  # type: ignore[misc]
        conn.execute(stmt, summaries)
    else:
        _merge_summaries_portably(conn, run_id, summaries)
    c = latest_metrics.c
    return [
        tuple(r)  # type: ignore[misc]
        for r in conn.execute(
            sa.select(c.key, c.series_id, c.small_chunks).where(
                c.run_uuid == run_id, c.key.in_([s["key"] for s in summaries])
            )
        )
    ]


def _insert_chunks(conn: Connection, chunks: list[dict[str, Any]]) -> None:
    conn.execute(metric_chunks.insert(), chunks)


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


def _compact_small_chunks(conn: Connection, crowded: list[int]) -> None:
    """Re-pack the small chunks of each crowded series into as few chunks as fit.

    Writers to one series are serialized by the summary row they just upserted, so no other
    transaction can re-pack the same chunks at the same time."""
    c = metric_chunks.c
    small = conn.execute(
        sa.select(c.series_id, c.chunk_id, c.points, c.data)
        .where(c.series_id.in_(crowded), c.points < SMALL_CHUNK_POINTS)
        .order_by(c.series_id, c.chunk_id)
    ).all()
    by_series: dict[int, list[series.Columns]] = {}
    for sid, _, n, data in small:
        by_series.setdefault(sid, []).append(series.decode(data, n))
    packed = [
        _chunk_row(sid, piece)
        for sid, chunks in by_series.items()
        for piece in series.split(series.merged(chunks))
    ]
    conn.execute(metric_chunks.delete().where(c.chunk_id.in_([row[1] for row in small])))
    _insert_chunks(conn, packed)
    still_small: dict[int, int] = dict.fromkeys(by_series, 0)
    for row in packed:
        if row["points"] < SMALL_CHUNK_POINTS:
            still_small[row["series_id"]] += 1
    conn.execute(
        latest_metrics.update()
        .where(latest_metrics.c.series_id == sa.bindparam("sid"))
        .values(small_chunks=sa.bindparam("small")),
        [{"sid": sid, "small": n} for sid, n in still_small.items()],
    )


def series_ids(conn: Connection, run_id: str, keys: Sequence[str]) -> dict[str, int]:
    """The series id of each of a run's metric keys that has one."""
    found = conn.execute(
        sa.select(latest_metrics.c.key, latest_metrics.c.series_id).where(
            latest_metrics.c.run_uuid == run_id, latest_metrics.c.key.in_(list(keys))
        )
    ).all()
    return dict(found)  # type: ignore[arg-type]


def series_id(conn: Connection, run_id: str, key: str) -> int | None:
    return series_ids(conn, run_id, [key]).get(key)


def _dialect_insert(dialect: str) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


_summary_upserts: dict[str, Any] = {}


def _summary_upsert(dialect: str) -> Any:
    """The summary upsert of a dialect, built once: building it (CASE expressions, cache key)
    cost more than running it, on every batch."""
    stmt = _summary_upserts.get(dialect)
    if stmt is None:
        stmt = _summary_upserts[dialect] = _build_summary_upsert(_dialect_insert(dialect))
    return stmt


def _build_summary_upsert(insert_mod: Any) -> Any:
    # One atomic statement per batch: concurrent writers to the same run (many clients, many
    # server workers) can never lose a newer "latest" or a smaller minimum.
    stmt = insert_mod(latest_metrics)
    new = stmt.excluded
    old = latest_metrics.c
    newer = sa.or_(
        new.step > old.step, sa.and_(new.step == old.step, new.timestamp >= old.timestamp)
    )

    def pick(column: str) -> Any:
        return sa.case((newer, getattr(new, column)), else_=getattr(old, column))

    def extreme(column: str, smaller: bool) -> Any:
        n, o = getattr(new, column), getattr(old, column)
        better = n < o if smaller else n > o
        return sa.case((o.is_(None), n), (n.is_(None), o), (better, n), else_=o)

    stmt = stmt.on_conflict_do_update(
        index_elements=[old.run_uuid, old.key],
        set_={
            "value": pick("value"),
            "timestamp": pick("timestamp"),
            "step": pick("step"),
            "is_nan": pick("is_nan"),
            "min_value": extreme("min_value", smaller=True),
            "max_value": extreme("max_value", smaller=False),
            "small_chunks": old.small_chunks + new.small_chunks,
        },
    )
    return stmt


def _merge_summaries_portably(
    conn: Connection, run_id: str, summaries: list[dict[str, Any]]
) -> None:
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


def _is_newer(new: dict[str, Any], old: dict[str, Any]) -> bool:
    # The same rule as the upsert's CASE: a later step, or the same step logged no earlier.
    return (new["step"], new["timestamp"]) >= (old["step"], old["timestamp"])


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
    """At most ``max_results`` evenly spread steps of one run's metric (first and last kept),
    with every point logged at those steps."""
    points = in_step_order(*series_columns(conn, run_id, key, start_step, end_step))
    lo = float("-inf") if start_step is None else start_step
    hi = float("inf") if end_step is None else end_step
    points = [p for p in points if lo <= p[0] <= hi]
    steps = sorted({p[0] for p in points})
    if len(steps) > max_results:
        if max_results == 1:
            wanted = {steps[-1]}
        else:
            stride = (len(steps) - 1) / (max_results - 1)
            wanted = {steps[round(i * stride)] for i in range(max_results)}
        points = [p for p in points if p[0] in wanted]
    return [Metric(key, value, ts, step, run_id=run_id) for step, ts, value in points]
