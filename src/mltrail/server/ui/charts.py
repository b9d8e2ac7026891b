"""Metric histories for charts, downsampled by the store to what a screen can show.

Series travel as parallel arrays (steps, timestamps, values): a third of the bytes of a list
of objects, and what plotly wants anyway. A zoomed chart asks again for its step window and
gets full resolution as soon as the window holds few enough points.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request

from mltrail.entities import Metric
from mltrail.exceptions import InvalidParameter
from mltrail.server.ui.common import finite, json_response, split_list, store_of
from mltrail.store.base import TrackingStore

router = APIRouter()
DEFAULT_POINTS = 2000
MAX_POINTS = 20_000
MAX_RUNS = 100


class SeriesCache:
    """Recently drawn series, so reopening a page with a long history is instant.

    An entry is used only while the metric's latest point (kept by the store beside the
    series) is unchanged, so a live run is always read fresh; entries also expire, in case
    points were added at old steps.
    """

    def __init__(self, size: int = 256, ttl_seconds: float = 300.0) -> None:
        self.size = size
        self.ttl = ttl_seconds
        self._items: OrderedDict[tuple[Any, ...], tuple[float, Any, list[Metric]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], signature: Any) -> list[Metric] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[1] != signature or time.monotonic() - found[0] > self.ttl:
                return None
            self._items.move_to_end(key)
            return found[2]

    def put(self, key: tuple[Any, ...], signature: Any, points: list[Metric]) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), signature, points)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_cache = SeriesCache()


def _latest_signature(store: TrackingStore, run_id: str, key: str) -> Any:
    run = store.get_run(run_id)
    latest = next((m for m in run.data.metric_objs if m.key == key), None)
    return None if latest is None else (latest.step, latest.timestamp, repr(latest.value))


def downsampled(
    store: TrackingStore,
    run_id: str,
    key: str,
    max_points: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """The store's downsampled history, through the cache."""
    signature = _latest_signature(store, run_id, key)
    cache_key = (id(store), run_id, key, max_points, start_step, end_step)
    points = _cache.get(cache_key, signature)
    if points is None:
        points = store.get_metric_history_downsampled(run_id, key, max_points, start_step, end_step)
        _cache.put(cache_key, signature, points)
    return points


def metric_series(
    store: TrackingStore,
    run_ids: list[str],
    key: str,
    max_points: int = DEFAULT_POINTS,
    start_step: int | None = None,
    end_step: int | None = None,
) -> dict[str, Any]:
    """One downsampled series of ``key`` per run, in step order."""
    if not run_ids:
        raise InvalidParameter("Give at least one run id.")
    if len(run_ids) > MAX_RUNS:
        raise InvalidParameter(f"Charts draw at most {MAX_RUNS} runs at once.")
    if not key:
        raise InvalidParameter("Give the metric key to draw.")
    max_points = max(2, min(max_points, MAX_POINTS))
    series = []
    for run_id in run_ids:
        points = downsampled(store, run_id, key, max_points, start_step, end_step)
        series.append(
            {
                "run_id": run_id,
                "steps": [m.step for m in points],
                "timestamps": [m.timestamp for m in points],
                "values": [finite(m.value) for m in points],
            }
        )
    return {"key": key, "max_points": max_points, "series": series}


def _int_or_none(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(float(raw))
    except ValueError:
        raise InvalidParameter(f"{name} must be a whole number, not {raw!r}.") from None


@router.get("/ajax-api/ui/metric-history", include_in_schema=False)
def metric_history_json(
    request: Request,
    run_ids: str,
    key: str,
    max_points: str = str(DEFAULT_POINTS),
    start_step: str | None = None,
    end_step: str | None = None,
) -> Any:
    points = _int_or_none(max_points, "max_points") or DEFAULT_POINTS
    data = metric_series(
        store_of(request),
        split_list(run_ids, limit=MAX_RUNS + 1),
        key,
        points,
        _int_or_none(start_step, "start_step"),
        _int_or_none(end_step, "end_step"),
    )
    return json_response(data)
