"""``get_metric_history_downsampled``: SQL bucketing on SQLite and PostgreSQL, and the
default implementation of the store contract, agree and keep every spike."""

from __future__ import annotations

import math

import pytest

from mltrail.entities import Metric
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.base import TrackingStore

N = 20_000
SPIKE_STEP = 12_345


def _series(n: int = N) -> list[Metric]:
    points = []
    for step in range(n):
        value = math.sin(step / 500.0)
        if step == SPIKE_STEP:
            value = 1000.0
        if step == SPIKE_STEP + 1000:
            value = -1000.0
        points.append(Metric("loss", value, 1_700_000_000_000 + step * 10, step))
    return points


@pytest.fixture
def filled(sql_store):
    exp = sql_store.create_experiment("ds")
    run = sql_store.create_run(exp, "u", 0, run_name="r")
    sql_store.write_batch(run.info.run_id, metrics=_series())
    return sql_store, run.info.run_id


def test_small_history_is_returned_whole(sql_store):
    exp = sql_store.create_experiment("small")
    run_id = sql_store.create_run(exp, "u", 0).info.run_id
    sql_store.write_batch(run_id, metrics=_series(50))
    got = sql_store.get_metric_history_downsampled(run_id, "loss", 100)
    assert [m.step for m in got] == list(range(50))
    assert got[0].run_id == run_id


def test_long_history_keeps_extremes_and_bounds(filled):
    store, run_id = filled
    got = store.get_metric_history_downsampled(run_id, "loss", 400)
    assert 2 <= len(got) <= 400
    steps = [m.step for m in got]
    assert steps == sorted(steps)
    width = -(-N // 200)  # steps per bucket
    spikes = {m.value: m.step for m in got if abs(m.value) == 1000.0}
    assert abs(spikes[1000.0] - SPIKE_STEP) < width  # exact value, placed within its bucket
    assert abs(spikes[-1000.0] - (SPIKE_STEP + 1000)) < width
    buckets = {m.step // width for m in got}
    assert len(buckets) == 200  # every bucket is represented
    assert all(m.timestamp == 1_700_000_000_000 + m.step * 10 for m in got)
    assert min(steps) < 50 and max(steps) > N - 50


def test_step_window_refetches_full_resolution(filled):
    store, run_id = filled
    got = store.get_metric_history_downsampled(run_id, "loss", 400, 100, 299)
    assert [m.step for m in got] == list(range(100, 300))


def test_sql_agrees_with_default_implementation(filled):
    store, run_id = filled
    sql = store.get_metric_history_downsampled(run_id, "loss", 300, 1000, 15000)
    generic = TrackingStore.get_metric_history_downsampled(store, run_id, "loss", 300, 1000, 15000)
    assert [(m.step, m.timestamp, m.value) for m in sql] == [
        (m.step, m.timestamp, m.value) for m in generic
    ]


def test_nan_is_not_an_extreme(sql_store):
    exp = sql_store.create_experiment("nan")
    run_id = sql_store.create_run(exp, "u", 0).info.run_id
    points = [Metric("m", float("nan") if s % 7 == 0 else 5.0 + s, s, s) for s in range(1000)]
    sql_store.write_batch(run_id, metrics=points)
    got = sql_store.get_metric_history_downsampled(run_id, "m", 20)
    assert got and all(m.value >= 5.0 for m in got)


def test_errors(filled):
    store, run_id = filled
    with pytest.raises(NotFound):
        store.get_metric_history_downsampled("0" * 32, "loss", 100)
    with pytest.raises(InvalidParameter):
        store.get_metric_history_downsampled(run_id, "loss", 0)
    assert store.get_metric_history_downsampled(run_id, "nope", 100) == []
