"""Kept search plans (``store.sql.search.plan``): a repeated search reuses its parsed filter
and built statements, never its results, on every SQL backend."""

from __future__ import annotations

import pytest

from mltrail.entities import Metric
from mltrail.exceptions import SearchSyntaxError
from mltrail.store.sql.search import statement
from mltrail.store.sql.store import SqlStore

FILTER = "metrics.m >= 2"
ORDER = ["metrics.m DESC"]


@pytest.fixture
def store(store_on_sql) -> SqlStore:
    return store_on_sql


def _add_runs(store: SqlStore, exp: str, values: list[float]) -> None:
    for i, value in enumerate(values):
        run_id = store.create_run(exp, "u", 1000 + i, [], f"r{value}").info.run_id
        store.log_batch(run_id, metrics=[Metric("m", value, 1, 0)])


def _values(store: SqlStore, exp: str, max_results: int = 100, token: str | None = None):
    page = store.search_runs([exp], FILTER, max_results=max_results, order_by=ORDER,
                             page_token=token)  # fmt: skip
    return [r.data.metrics["m"] for r in page], page.token


def test_a_repeated_search_sees_new_runs_across_strategies(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statement, "FEW_RUNS", 4)  # so the experiment outgrows "few runs"
    exp = store.create_experiment("plans")
    _add_runs(store, exp, [1, 2, 3])
    assert _values(store, exp) == ([3, 2], None)  # few runs: one statement, runs first
    _add_runs(store, exp, [4, 0.5, 5, 2.5])
    assert _values(store, exp) == ([5, 4, 3, 2.5, 2], None)  # many: passes by metric
    first, token = _values(store, exp, max_results=2)
    assert first == [5, 4] and token
    assert _values(store, exp, max_results=2, token=token)[0] == [3, 2.5]


def test_order_by_spellings_share_results(store: SqlStore) -> None:
    exp = store.create_experiment("spellings")
    _add_runs(store, exp, [1, 3, 2])
    for order in (["metrics.m ASC"], ("metrics.m ASC",), "metrics.m ASC"):
        found = store.search_runs([exp], order_by=order)  # type: ignore[arg-type]
        assert [r.data.metrics["m"] for r in found] == [1, 2, 3]


def test_bad_input_fails_every_time(store: SqlStore) -> None:
    exp = store.create_experiment("bad")
    for _ in range(2):
        with pytest.raises(SearchSyntaxError):
            store.search_runs([exp], "metrics.m >")
        with pytest.raises(SearchSyntaxError):
            store.search_runs([exp], order_by=["metrics.m SIDEWAYS"])
        with pytest.raises(SearchSyntaxError):
            store.search_runs([exp], order_by=[{"key": "m"}])  # type: ignore[list-item]
