"""Metric series stored in packed chunks: order, duplicates, NaN, re-packing of small chunks
and step-range reads, on every SQL backend; plus the chunk codec itself."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from mltrail.entities import Metric
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql import series
from mltrail.store.sql.schema import metric_chunks
from mltrail.store.sql.store import SqlStore

NAN, INF = float("nan"), float("inf")


@pytest.fixture
def store(store_on_sql) -> SqlStore:
    return store_on_sql


def _run_id(store: SqlStore) -> str:
    return store.create_run("0", "alice", 1000).info.run_id


def _chunk_count(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(metric_chunks)).scalar()


def _points(history: list[Metric]) -> list[tuple[int, int, float]]:
    return [(m.timestamp, m.step, m.value) for m in history]


def test_batches_logged_out_of_order_read_back_in_history_order(store):
    run_id = _run_id(store)
    store.log_batch(run_id, [Metric("loss", float(i), 2000 + i, i) for i in range(100, 200)])
    store.log_batch(run_id, [Metric("loss", float(i), 1000 + i, i) for i in range(100)][::-1])
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(200))
    assert history == sorted(history, key=lambda m: (m.timestamp, m.step, m.value))
    assert store.get_run(run_id).data.metrics["loss"] == 199.0


def test_identical_points_across_batches_are_kept_once(store):
    run_id = _run_id(store)
    batch = [Metric("acc", 0.5, 10, 1), Metric("acc", 0.6, 10, 1), Metric("acc", NAN, 11, 2)]
    store.log_batch(run_id, batch)
    store.log_batch(run_id, batch[::-1])
    history = store.get_metric_history(run_id, "acc")
    assert [(m.timestamp, m.step) for m in history] == [(10, 1), (10, 1), (11, 2)]
    assert [m.value for m in history[:2]] == [0.5, 0.6]
    assert math.isnan(history[2].value)


def test_values_keep_every_bit(store):
    run_id = _run_id(store)
    values = [NAN, INF, -INF, -0.0, 5e-324, 1.7976931348623157e308, 1 / 3]
    store.log_batch(run_id, [Metric("v", x, 100 + i, i) for i, x in enumerate(values)])
    got = [m.value for m in store.get_metric_history(run_id, "v")]
    assert math.isnan(got[0])
    assert got[1:] == values[1:]
    assert math.copysign(1, got[3]) == -1.0  # -0.0 stays negative


def test_point_by_point_logging_is_repacked(store):
    run_id = _run_id(store)
    count = metric_io.COMPACT_AT_SMALL_CHUNKS * 3 + 5
    for i in range(count):
        store.log_batch(run_id, [Metric("lr", i / 10, 100 + i, i)])
    assert _chunk_count(store) < metric_io.COMPACT_AT_SMALL_CHUNKS + 2
    history = store.get_metric_history(run_id, "lr")
    assert [m.step for m in history] == list(range(count))
    assert [m.value for m in history] == [i / 10 for i in range(count)]


def test_history_pages_across_chunks(store):
    run_id = _run_id(store)
    for start in range(0, 50, 10):
        store.log_batch(run_id, [Metric("m", float(i), i, i) for i in range(start, start + 10)])
    page = store.get_metric_history(run_id, "m", max_results=15)
    rest = store.get_metric_history(run_id, "m", max_results=100, page_token=page.token)
    assert [m.step for m in page] + [m.step for m in rest] == list(range(50))


def test_downsampled_window_reads_only_the_overlapping_points(store):
    run_id = _run_id(store)
    for start in range(0, 4000, 1000):
        store.log_batch(
            run_id, [Metric("x", float(i % 97), i, i) for i in range(start, start + 1000)]
        )
    window = store.get_metric_history_downsampled(run_id, "x", 5000, 1500, 2499)
    assert [m.step for m in window] == list(range(1500, 2500))
    coarse = store.get_metric_history_downsampled(run_id, "x", 100, 0, 3999)
    assert len(coarse) <= 100
    assert min(m.value for m in coarse) == 0.0 and max(m.value for m in coarse) == 96.0


def test_normalized_sorts_and_drops_identical_points():
    ts, steps, values = series.normalized(
        [3, 1, 1, 2, 1], [0, 5, 5, 1, 5], [1.0, NAN, NAN, 2.0, 0.5]
    )
    assert (ts, steps) == ([1, 1, 2, 3], [5, 5, 1, 0])
    assert values[0] == 0.5 and math.isnan(values[1]) and values[2:] == [2.0, 1.0]
    assert series.normalized([], [], []) == ([], [], [])


def test_merged_concatenates_ascending_chunks_and_sorts_overlapping_ones():
    first, second = ([1, 2], [1, 2], [0.1, 0.2]), ([3, 4], [3, 4], [0.3, 0.4])
    assert series.merged([first, second]) == ([1, 2, 3, 4], [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4])
    assert series.merged([second, first]) == ([1, 2, 3, 4], [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4])
    assert series.merged([first, first]) == first


def test_codec_round_trip_and_bad_length():
    cols = ([1, 2**62], [-5, 7], [NAN, -INF])
    data = series.encode(*cols)
    ts, steps, values = series.decode(data, 2)
    assert (ts, steps, values[1]) == ([1, 2**62], [-5, 7], -INF) and math.isnan(values[0])
    with pytest.raises(ValueError, match="must be 48 bytes"):
        series.decode(data[:-1], 2)


def test_split_caps_chunk_size():
    cols = (list(range(10)), list(range(10)), [float(i) for i in range(10)])
    pieces = series.split(cols, size=4)
    assert [len(p[0]) for p in pieces] == [4, 4, 2]
    assert sum((p[0] for p in pieces), []) == cols[0]


def _chunks_of(*columns: series.Columns) -> list[tuple[int, bytes]]:
    return [(len(c[0]), series.encode(*c)) for c in columns]


def test_window_decodes_only_what_it_needs_and_matches_the_full_read():
    pieces = [
        (list(range(s, s + 10)), list(range(s, s + 10)), [float(i) for i in range(s, s + 10)])
        for s in range(0, 50, 10)
    ]
    chunks = _chunks_of(*pieces)
    full = series.merged(pieces)
    for offset, limit in ((0, None), (0, 5), (7, 10), (10, 10), (45, 100), (49, 1), (60, 5)):
        stop = None if limit is None else offset + limit
        expected = tuple(c[offset:stop] for c in full)
        assert series.window(chunks, offset, limit) == expected, (offset, limit)


def test_window_over_overlapping_chunks_sorts_first():
    late = ([5, 6], [5, 6], [0.5, 0.6])
    early = ([1, 2], [1, 2], [0.1, 0.2])
    assert series.window(_chunks_of(late, early), 1, 2) == ([2, 5], [2, 5], [0.2, 0.5])


def test_sqlite_without_returning_reads_the_series_back(tmp_path, monkeypatch):
    # SQLite 3.24-3.34 has the upsert but not RETURNING: the same writes, one read more.
    store = SqlStore("sqlite:///" + str(tmp_path / "old.db"), str(tmp_path / "artifacts"))
    monkeypatch.setattr(store.engine.dialect, "server_version_info", (3, 31, 1))
    run_id = _run_id(store)
    for start in (0, 10):
        store.log_batch(run_id, [Metric(k, float(i), i, i) for i in range(start, start + 10)
                                 for k in ("a", "b")])  # fmt: skip
    assert [m.step for m in store.get_metric_history(run_id, "b")] == list(range(20))
    assert store.get_run(run_id).data.metrics == {"a": 19.0, "b": 19.0}
