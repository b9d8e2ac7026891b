"""Loading a page of runs (``store.sql.rows.load_runs``): params, tags, latest metrics and
inputs come back exactly as logged, on every SQL backend. On SQLite the params and tags travel
as one JSON object per run, so text that JSON escapes is worth a test of its own."""

from __future__ import annotations

import math

import pytest

from mltrail.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mltrail.store.sql.store import SqlStore

TRICKY = [
    'say "hi"',
    "back\\slash",
    "tab\tnew\nline\r",
    "\x01\x1f control",
    "caf\u00e9 \u6f22\u5b57 \U0001f600",
    "\u2028\u2029 separators",
    "",
    "{}",
    "[1, 2]",
    "null",
    "12.50",
]
VALUES = [0.1, 1 / 3, 2.0**-1074, 1.7976931348623157e308, -2.5e-300, math.inf, -math.inf, math.nan]


@pytest.fixture
def store(store_on_sql) -> SqlStore:
    return store_on_sql


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_params_and_tags_come_back_exactly(store: SqlStore) -> None:
    exp = store.create_experiment("tricky")
    run = store.create_run(exp, "u", 1000, [], "r")
    params = [Param(f"p{i}", text) for i, text in enumerate(TRICKY)]
    tags = [RunTag(f"t{i}", text) for i, text in enumerate(TRICKY)]
    store.log_batch(run.info.run_id, params=params, tags=tags)
    for found in (store.get_run(run.info.run_id), store.search_runs([exp])[0]):
        assert found.data.params == {p.key: p.value for p in params}
        assert {k: v for k, v in found.data.tags.items() if not k.startswith("mlflow.")} == {
            t.key: t.value for t in tags
        }


def test_metrics_keep_every_bit(store: SqlStore) -> None:
    if store.engine.dialect.name == "mysql":
        pytest.skip("MySQL stores no infinity (the store clamps it); the rest is covered here")
    exp = store.create_experiment("values")
    run = store.create_run(exp, "u", 1000, [], "r")
    metrics = [Metric(f"m{i}", v, 1000 + i, i) for i, v in enumerate(VALUES)]
    store.log_batch(run.info.run_id, metrics=metrics)
    found = store.search_runs([exp])[0]
    by_key = {m.key: m for m in found.data.metric_objs}
    for m in metrics:
        got = by_key[m.key]
        assert _same(got.value, m.value), (m.key, got.value, m.value)
        assert (got.timestamp, got.step) == (m.timestamp, m.step)


def test_a_page_mixes_runs_with_and_without_inputs(store: SqlStore) -> None:
    exp = store.create_experiment("inputs")
    ids = [store.create_run(exp, "u", 1000 + i, [], f"r{i}").info.run_id for i in range(4)]
    dataset = Dataset(name="train", digest="abc", source_type="local", source="/data")
    store.log_inputs(ids[1], [DatasetInput(dataset, (InputTag("mlflow.data.context", "train"),))])
    store.log_batch(ids[2], params=[Param("only", "params")])
    page = {r.info.run_id: r for r in store.search_runs([exp])}
    assert [d.dataset.name for d in page[ids[1]].inputs.dataset_inputs] == ["train"]
    assert page[ids[1]].inputs.dataset_inputs[0].tags == (InputTag("mlflow.data.context", "train"),)
    for run_id in (ids[0], ids[2], ids[3]):
        assert page[run_id].inputs.dataset_inputs == []
    assert page[ids[2]].data.params == {"only": "params"}
    assert page[ids[0]].data.params == {} and page[ids[3]].data.metrics == {}
