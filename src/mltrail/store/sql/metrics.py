"""Metric writes and reads: the series table plus the per-run summary kept beside it."""

from __future__ import annotations

import contextlib
import gc
import math
import operator
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.entities import Metric
from mltrail.store.sql.schema import latest_metrics, metrics

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

NAN = float("nan")
_MYSQL_DOUBLE_MAX = 1.7976931348623157e308


def metric_rows(run_id: str, points: Sequence[Metric], clamp_inf: bool) -> list[tuple[Any, ...]]:
    """Rows as (run_uuid, key, timestamp, step, value, is_nan) tuples: NaN stored as 0."""
    rows = []
    append = rows.append
    for m in points:
        value = m.value
        if value != value:
            append((run_id, m.key, m.timestamp, m.step, 0.0, True))
            continue
        if clamp_inf and math.isinf(value):
            value = math.copysign(_MYSQL_DOUBLE_MAX, value)
        append((run_id, m.key, m.timestamp, m.step, value, False))
    return rows


# (step, timestamp, value): what "latest" means, as MLflow orders points.
_LATEST_ORDER = operator.itemgetter(3, 2, 4)


def _summaries(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One summary row per key: its latest point by (step, timestamp, value), min and max."""
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        group = by_key.get(row[1])
        if group is None:
            by_key[row[1]] = [row]
        else:
            group.append(row)
    summaries = []
    for group in by_key.values():
        # Built-in max/min over a key's points: a Python branch per point cost 3x more.
        # Reversed, so that of equal points the last logged wins.
        run_id, key, timestamp, step, value, is_nan = (
            group[0] if len(group) == 1 else max(reversed(group), key=_LATEST_ORDER)
        )
        reals = [r[4] for r in group if not r[5]]
        summaries.append(
            {
                "run_uuid": run_id,
                "key": key,
                "timestamp": timestamp,
                "step": step,
                "value": value,
                "is_nan": is_nan,
                "min_value": min(reals) if reals else None,
                "max_value": max(reals) if reals else None,
            }
        )
    return summaries


_INSERT_POINTS = {
    # Straight to the driver: SQLAlchemy's per-row parameter handling costs more than the
    # insert itself for a 20k-point batch.
    "sqlite": "INSERT OR IGNORE INTO metrics (series_id, timestamp, step, value, is_nan) "
    "VALUES (?, ?, ?, ?, ?)",
    "postgresql": "INSERT INTO metrics (series_id, timestamp, step, value, is_nan) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
    "mysql": "INSERT IGNORE INTO metrics (series_id, timestamp, step, value, is_nan) "
    "VALUES (%s, %s, %s, %s, %s)",
}


def write_metrics(conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
    """Merge points into the run's summaries (creating their series), then insert them;
    identical points are stored once."""
    dialect = conn.dialect.name
    rows = metric_rows(run_id, points, clamp_inf=dialect == "mysql")
    if not rows:
        return
    summaries = _summaries(rows)
    if dialect in ("sqlite", "postgresql"):
        conn.execute(_summary_upsert(dialect), summaries)
    else:
        _merge_summaries_portably(conn, run_id, summaries)
    ids = series_ids(conn, run_id, [s["key"] for s in summaries])
    points = [(ids[key], ts, step, value, nan) for _, key, ts, step, value, nan in rows]
    if dialect == "postgresql":
        # One statement for the whole batch: five arrays unnested server-side, instead of a
        # round of statement work per point (3x less CPU on both sides for 1000 points).
        columns = list(zip(*points, strict=True))
        conn.exec_driver_sql(_PG_INSERT_ARRAYS, tuple(list(c) for c in columns))
    else:
        conn.exec_driver_sql(_INSERT_POINTS[dialect], points)


_PG_INSERT_ARRAYS = (
    "INSERT INTO metrics (series_id, timestamp, step, value, is_nan) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::bool[]) "
    "ON CONFLICT DO NOTHING"
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
        merged = _summaries(
            [
                tuple(old[c] for c in _ROW_FIELDS),
                tuple(summary[c] for c in _ROW_FIELDS),
            ]
        )[0]
        merged["min_value"] = _min_none(old["min_value"], summary["min_value"])
        merged["max_value"] = _max_none(old["max_value"], summary["max_value"])
        conn.execute(
            latest_metrics.update()
            .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key == summary["key"])
            .values({k: v for k, v in merged.items() if k not in ("run_uuid", "key")})
        )


_ROW_FIELDS = ("run_uuid", "key", "timestamp", "step", "value", "is_nan")


def _min_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def history(
    conn: Connection, run_id: str, key: str, offset: int, limit: int | None
) -> list[Metric]:
    sid = series_id(conn, run_id, key)
    if sid is None:
        return []
    query = (
        sa.select(metrics.c.timestamp, metrics.c.step, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.series_id == sid)
        .order_by(metrics.c.timestamp, metrics.c.step, metrics.c.value)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    # Fetch all rows at once (not row by row), and build the points with the cyclic GC
    # paused: otherwise it rescans the young points again and again, a third of the time.
    with _gc_paused():
        rows = conn.execute(query).all()
        return [
            Metric(key, NAN if is_nan else value, ts, step, run_id)
            for ts, step, value, is_nan in rows
        ]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    sid = series_id(conn, run_id, key)
    if sid is None:
        return []
    where = [metrics.c.series_id == sid]
    if start_step is not None:
        where.append(metrics.c.step >= start_step)
    if end_step is not None:
        where.append(metrics.c.step <= end_step)
    steps = (
        conn.execute(sa.select(metrics.c.step).where(*where).distinct().order_by(metrics.c.step))
        .scalars()
        .all()
    )
    if not steps:
        return []
    if len(steps) > max_results:
        if max_results == 1:
            chosen = [steps[-1]]
        else:
            stride = (len(steps) - 1) / (max_results - 1)
            chosen = sorted({steps[round(i * stride)] for i in range(max_results)})
        lo, hi = chosen[0], chosen[-1]
        rows = conn.execute(
            sa.select(metrics.c.timestamp, metrics.c.step, metrics.c.value, metrics.c.is_nan)
            .where(*where, metrics.c.step >= lo, metrics.c.step <= hi)
            .order_by(metrics.c.step, metrics.c.timestamp)
        )
        wanted = set(chosen)
        rows = [r for r in rows if r.step in wanted]
    else:
        rows = conn.execute(
            sa.select(metrics.c.timestamp, metrics.c.step, metrics.c.value, metrics.c.is_nan)
            .where(*where)
            .order_by(metrics.c.step, metrics.c.timestamp)
        ).all()
    return [
        Metric(key, NAN if r.is_nan else r.value, r.timestamp, r.step, run_id=run_id) for r in rows
    ]
