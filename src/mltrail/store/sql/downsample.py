"""Downsampled metric histories for charts.

A chart a thousand pixels wide cannot show a million points, and shipping them costs seconds.
The steps of the wanted range are cut into ``max_points // 2`` equal buckets; each bucket
keeps its minimum and its maximum value, so spikes survive and the drawn envelope is exact.
Only chunks that overlap the range are fetched, and the buckets are computed with NumPy
straight over the packed bytes, so a million points never become Python objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mltrail.entities import Metric
from mltrail.store.sql import series
from mltrail.store.sql.metrics import in_step_order, series_arrays

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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
    import numpy as np

    ts, st, vals = series_arrays(conn, run_id, key, start_step, end_step)
    keep = np.ones(len(st), dtype=bool)
    if start_step is not None:
        keep &= st >= start_step
    if end_step is not None:
        keep &= st <= end_step
    if not keep.all():
        ts, st, vals = ts[keep], st[keep], vals[keep]
    if len(st) == 0:
        return []
    if len(st) <= max_points:
        # Few enough to send whole: in history order without duplicates, then by step.
        cols = series.normalized(ts.tolist(), st.tolist(), vals.tolist())
        points = in_step_order(*cols)
        return [Metric(key, value, t, step, run_id=run_id) for step, t, value in points]
    lo, hi = int(st.min()), int(st.max())
    width = bucket_width(lo, hi, max(1, max_points // 2))
    real = ~np.isnan(vals)  # NaN must not pose as a bucket's minimum
    ts, st, vals = ts[real], st[real], vals[real]
    if len(st) == 0:
        return []
    bucket = (st - lo) // width
    if not (bucket[1:] >= bucket[:-1]).all():  # steps usually arrive in order: skip the sort
        order = np.argsort(bucket, kind="stable")
        bucket, ts, st, vals = bucket[order], ts[order], st[order], vals[order]
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    # A bucket is at most a pixel or two wide, so its extremes are drawn at its first and
    # last step; their values are exact, and a zoomed-in window soon comes back whole.
    vmin, vmax = np.minimum.reduceat(vals, starts), np.maximum.reduceat(vals, starts)
    smin, smax = np.minimum.reduceat(st, starts), np.maximum.reduceat(st, starts)
    tmin, tmax = np.minimum.reduceat(ts, starts), np.maximum.reduceat(ts, starts)
    found: list[Metric] = []
    for row in zip(
        vmin.tolist(),
        vmax.tolist(),
        smin.tolist(),
        smax.tolist(),
        tmin.tolist(),
        tmax.tolist(),
        strict=True,
    ):
        low, high, first_step, last_step, first_ts, last_ts = row
        found.append(Metric(key, low, first_ts, first_step, run_id=run_id))
        if last_step != first_step or high != low:
            found.append(Metric(key, high, last_ts, last_step, run_id=run_id))
    found.sort(key=lambda m: (m.step, m.timestamp))
    return found
