"""Downsampled metric histories for charts, computed inside the database.

A chart a thousand pixels wide cannot show a million points, and shipping them costs seconds.
The steps of the wanted range are cut into ``max_points // 2`` equal buckets (one GROUP BY
scan in SQL); each bucket keeps its minimum and its maximum value, so spikes survive and the
drawn envelope is exact. Only ``max_points`` rows ever leave the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.entities import Metric
from mltrail.store.sql.metrics import series_id
from mltrail.store.sql.schema import latest_metrics, metrics

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

NAN = float("nan")


def bucket_width(lo: int, hi: int, buckets: int) -> int:
    """Steps per bucket so that ``[lo, hi]`` fits in at most ``buckets`` buckets."""
    span = hi - lo + 1
    return max(1, -(-span // max(1, buckets)))


def downsampled_history(
    conn: Connection,
    run_id: str,
    key: str,
    max_points: int,
    start_step: int | None = None,
    end_step: int | None = None,
) -> list[Metric]:
    """At most about ``max_points`` points of one metric in step order: every point when
    they fit, else the minimum and maximum of each step bucket."""
    sid = series_id(conn, run_id, key)
    if sid is None:
        return []
    where = [metrics.c.series_id == sid]
    if start_step is not None:
        where.append(metrics.c.step >= start_step)
    if end_step is not None:
        where.append(metrics.c.step <= end_step)
    lo, hi, count = conn.execute(
        sa.select(sa.func.min(metrics.c.step), sa.func.max(metrics.c.step), sa.func.count()).where(
            *where
        )
    ).one()
    if not count:
        return []
    if count <= max_points:
        rows = conn.execute(
            sa.select(metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
            .where(*where)
            .order_by(metrics.c.step, metrics.c.timestamp)
        )
        return [_metric(key, run_id, r.step, r.timestamp, r.value, r.is_nan) for r in rows]
    width = bucket_width(lo, hi, max(1, max_points // 2))
    # NaN points are stored as 0 with a flag: they must not pose as a bucket's minimum.
    where.append(metrics.c.is_nan == sa.false())
    bucket = (metrics.c.step - lo) // width
    # One grouped scan, the same on every database. A bucket is at most a pixel or two wide,
    # so its extremes are drawn at its first and last step; their values are exact, and a
    # zoomed-in window soon holds few enough points to come back whole.
    query = (
        sa.select(
            sa.func.min(metrics.c.value),
            sa.func.max(metrics.c.value),
            sa.func.min(metrics.c.step),
            sa.func.max(metrics.c.step),
            sa.func.min(metrics.c.timestamp),
            sa.func.max(metrics.c.timestamp),
        )
        .where(*where)
        .group_by(bucket)
    )
    found: list[Metric] = []
    for vmin, vmax, smin, smax, tmin, tmax in conn.execute(query):
        found.append(Metric(key, vmin, tmin, smin, run_id=run_id))
        if smax != smin or vmax != vmin:
            found.append(Metric(key, vmax, tmax, smax, run_id=run_id))
    found.sort(key=lambda m: (m.step, m.timestamp))
    return found


def _series_where(conn: Connection, run_id: str, key: str) -> list[Any] | None:
    """The WHERE terms that select one run's series of ``key`` (None: it has none)."""
    series_id = conn.execute(
        sa.select(latest_metrics.c.series_id).where(
            latest_metrics.c.run_uuid == run_id, latest_metrics.c.key == key
        )
    ).scalar()
    return None if series_id is None else [metrics.c.series_id == series_id]


def _metric(key: str, run_id: str, step: int, ts: int, value: float, is_nan: bool) -> Metric:
    return Metric(key, NAN if is_nan else value, ts, step, run_id=run_id)
