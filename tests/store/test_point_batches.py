"""Point batches as the client's write buffer hands them over (``PointColumns``): keys
interleaved, many keys, out of order, one point per key; on every SQL backend."""

from __future__ import annotations

import math

import pytest

from mltrail.store.points import PointColumns
from mltrail.store.sql import series
from mltrail.store.sql.store import SqlStore


@pytest.fixture
def store(store_on_sql) -> SqlStore:
    return store_on_sql


def _columns(rows: list[tuple[str, float, int, int]]) -> PointColumns:
    keys, values, timestamps, steps = (list(c) for c in zip(*rows, strict=True))
    return PointColumns(keys, values, timestamps, steps)


def test_interleaved_keys_land_per_key_with_their_summaries(store):
    run_id = store.create_run("0", "alice", 1000).info.run_id
    # Three keys logged step by step (log_metrics in a loop), then many keys at once.
    rows = [(k, float(i) * (j + 1), 5000 + i, i) for i in range(50) for j, k in enumerate("abc")]
    rows += [(f"k{j:02d}", float(j), 9000, 0) for j in range(20)]
    store.write_points(run_id, _columns(rows), [], [])
    store.write_points(run_id, _columns([("a", -1.0, 4000, 3)]), [], [])  # an older point
    history = store.get_metric_history(run_id, "a")
    assert [(m.timestamp, m.step) for m in history] == [(4000, 3)] + [
        (5000 + i, i) for i in range(50)
    ]
    metrics = store.get_run(run_id).data.metrics
    assert metrics["a"] == 49.0 and metrics["b"] == 98.0 and metrics["c"] == 147.0
    assert {k: metrics[k] for k in metrics if k.startswith("k")} == {
        f"k{j:02d}": float(j) for j in range(20)
    }


def test_single_points_keep_nan_and_infinities(store):
    run_id = store.create_run("0", "alice", 1000).info.run_id
    rows = [("nan", math.nan, 10, 0), ("inf", math.inf, 10, 0), ("neg", -math.inf, 10, 0)]
    store.finish_run(run_id, "FINISHED", 20, _columns(rows), [], [])
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    if store.engine.dialect.name != "mysql":  # MySQL clamps infinities (see the docs)
        assert metrics["inf"] == math.inf and metrics["neg"] == -math.inf


def test_point_columns_are_a_sequence_of_rows():
    rows = [("a", 1.0, 10, 0), ("b", 2.0, 11, 1), ("a", 3.0, 12, 2)]
    batch = PointColumns.of(rows)
    assert PointColumns.of(batch) is batch
    assert len(batch) == 3 and batch[1] == ("b", 2.0, 11, 1) and list(batch) == rows
    assert list(batch[1:]) == rows[1:]
    with pytest.raises(ValueError, match="one length"):
        PointColumns(["a"], [1.0, 2.0], [1], [1])


def test_normalized_keeps_ordered_columns_and_sorts_the_rest():
    ts, steps, values = [1, 1, 2], [0, 1, 0], [5.0, 4.0, 3.0]
    assert series.normalized(ts, steps, values) == (ts, steps, values)
    assert series.normalized(ts, steps, values)[0] is ts  # not copied
    # Same timestamp and step: ordered by value, identical points kept once, NaN last.
    got = series.normalized([1, 1, 1, 1], [0, 0, 0, 0], [math.nan, 2.0, 1.0, 2.0])
    assert got[2][:2] == [1.0, 2.0] and math.isnan(got[2][2]) and len(got[2]) == 3
    assert series.normalized([3, 1, 2], [0, 0, 0], [1.0, 2.0, 3.0]) == (
        [1, 2, 3],
        [0, 0, 0],
        [2.0, 3.0, 1.0],
    )
