"""The tracking-store contract, run against every SQL backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import math

import pytest

from mltrail.entities import ExperimentTag, Metric, Param, RunTag, ViewType
from mltrail.exceptions import AlreadyExists, InvalidParameter, NotFound


@pytest.fixture
def sql_store(store_anywhere):
    return store_anywhere


def _run(store, exp_id="0", **kw):
    return store.create_run(exp_id, "alice", 1000, kw.pop("tags", []), kw.pop("run_name", None))


def test_default_experiment_exists(sql_store):
    exp = sql_store.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location.endswith("/0")


def test_create_get_rename_delete_restore_experiment(sql_store):
    exp_id = sql_store.create_experiment("penguins", tags=[ExperimentTag("team", "vision")])
    exp = sql_store.get_experiment(exp_id)
    assert exp.name == "penguins"
    assert exp.tags == {"team": "vision"}
    assert sql_store.get_experiment_by_name("penguins").experiment_id == exp_id
    assert sql_store.get_experiment_by_name("nope") is None
    with pytest.raises(AlreadyExists):
        sql_store.create_experiment("penguins")
    sql_store.rename_experiment(exp_id, "birds")
    assert sql_store.get_experiment(exp_id).name == "birds"
    run = _run(sql_store, exp_id)
    sql_store.delete_experiment(exp_id)
    assert sql_store.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert sql_store.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    sql_store.restore_experiment(exp_id)
    assert sql_store.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_unknown_experiment_is_not_found(sql_store):
    with pytest.raises(NotFound, match="999"):
        sql_store.get_experiment("999")
    with pytest.raises(InvalidParameter, match="integers"):
        sql_store.get_experiment("abc")
    with pytest.raises(NotFound):
        sql_store.create_run("999", "u", 0, [], None)


def test_experiment_tags_set_and_delete(sql_store):
    exp_id = sql_store.create_experiment("e")
    sql_store.set_experiment_tag(exp_id, ExperimentTag("k", "v1"))
    sql_store.set_experiment_tag(exp_id, ExperimentTag("k", "v2"))
    assert sql_store.get_experiment(exp_id).tags == {"k": "v2"}
    sql_store.delete_experiment_tag(exp_id, "k")
    assert sql_store.get_experiment(exp_id).tags == {}
    with pytest.raises(NotFound):
        sql_store.delete_experiment_tag(exp_id, "k")


def test_create_run_names_and_tags(sql_store):
    run = _run(sql_store, run_name="ridge", tags=[RunTag("team", "a")])
    fetched = sql_store.get_run(run.info.run_id)
    assert fetched.info.run_name == "ridge"
    assert fetched.data.tags["mlflow.runName"] == "ridge"
    assert fetched.data.tags["team"] == "a"
    assert fetched.info.status == "RUNNING"
    assert fetched.info.artifact_uri.endswith(f"/0/{run.info.run_id}/artifacts")
    generated = _run(sql_store)
    assert 0 < len(generated.info.run_name) <= 20
    with pytest.raises(InvalidParameter, match="different values"):
        _run(sql_store, run_name="a", tags=[RunTag("mlflow.runName", "b")])


def test_log_batch_round_trip_with_nan_and_inf(sql_store):
    run_id = _run(sql_store).info.run_id
    sql_store.log_batch(
        run_id,
        metrics=[
            Metric("loss", 1.0, 10, 0),
            Metric("loss", 0.5, 20, 1),
            Metric("weird", float("nan"), 10, 0),
            Metric("big", float("inf"), 10, 0),
            Metric("small", float("-inf"), 10, 0),
        ],
        params=[Param("alpha", "0.5")],
        tags=[RunTag("t", "v")],
    )
    data = sql_store.get_run(run_id).data
    assert data.metrics["loss"] == 0.5
    assert math.isnan(data.metrics["weird"])
    # MySQL has no infinities: it keeps the largest double, as MLflow does everywhere.
    dialect = getattr(getattr(sql_store, "engine", None), "dialect", None)
    biggest = 1.7976931348623157e308 if dialect and dialect.name == "mysql" else math.inf
    assert data.metrics["big"] == biggest
    assert data.metrics["small"] == -biggest
    assert data.params == {"alpha": "0.5"}
    assert data.tags["t"] == "v"
    history = sql_store.get_metric_history(run_id, "loss")
    assert [(m.value, m.step, m.timestamp) for m in history] == [(1.0, 0, 10), (0.5, 1, 20)]
    assert math.isnan(sql_store.get_metric_history(run_id, "weird")[0].value)


def test_identical_metric_points_are_stored_once(sql_store):
    run_id = _run(sql_store).info.run_id
    point = Metric("m", 1.0, 5, 3)
    sql_store.log_batch(run_id, metrics=[point])
    sql_store.log_batch(run_id, metrics=[point, Metric("m", 2.0, 5, 3)])
    assert len(sql_store.get_metric_history(run_id, "m")) == 2


def test_latest_metric_is_by_step_then_timestamp(sql_store):
    run_id = _run(sql_store).info.run_id
    sql_store.log_batch(run_id, metrics=[Metric("m", 5.0, 100, 10)])
    sql_store.log_batch(run_id, metrics=[Metric("m", 1.0, 200, 2)])  # older step, later time
    assert sql_store.get_run(run_id).data.metrics["m"] == 5.0


def test_param_is_immutable_and_batch_is_all_or_nothing(sql_store):
    run_id = _run(sql_store).info.run_id
    sql_store.log_param(run_id, Param("p", "1"))
    sql_store.log_param(run_id, Param("p", "1"))  # same value: fine
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        sql_store.log_batch(
            run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "2")], tags=[]
        )
    run = sql_store.get_run(run_id)
    assert run.data.params == {"p": "1"}
    assert "m" not in run.data.metrics  # nothing of the failed batch landed


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "match"),
    [
        ([Metric("../x", 1.0, 1, 0)], [], [], "resolve"),
        ([Metric("bad*key", 1.0, 1, 0)], [], [], "alphanumerics"),
        ([Metric("k" * 251, 1.0, 1, 0)], [], [], "maximum length"),
        ([Metric("m", "abc", 1, 0)], [], [], "valid double"),  # type: ignore[arg-type]
        ([Metric("m", 1.0, -1, 0)], [], [], "nonnegative"),
        ([], [Param("p", "x" * 16385)], [], "maximum"),
        ([], [], [RunTag("t", "x" * 16385)], "maximum"),
        ([], [Param("p", "1"), Param("p", "2")], [], "Duplicate"),
        ([Metric("m", 1.0, 1, i) for i in range(1001)], [], [], "at most 1000"),
    ],
)
def test_bad_batches_are_refused_whole(sql_store, metrics, params, tags, match):
    run_id = _run(sql_store).info.run_id
    with pytest.raises(InvalidParameter, match=match):
        sql_store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    data = sql_store.get_run(run_id).data
    assert data.metrics == {} and data.params == {}


def test_writes_to_deleted_or_unknown_runs_fail(sql_store):
    run_id = _run(sql_store).info.run_id
    sql_store.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        sql_store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    sql_store.restore_run(run_id)
    sql_store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    with pytest.raises(NotFound, match="not found"):
        sql_store.log_metric("f" * 32, Metric("m", 1.0, 1, 0))
    with pytest.raises(NotFound):
        sql_store.get_run("f" * 32)


def test_update_run_info_and_rename_through_tag(sql_store):
    run_id = _run(sql_store, run_name="a").info.run_id
    info = sql_store.update_run_info(run_id, status="FINISHED", end_time=5000)
    assert (info.status, info.end_time) == ("FINISHED", 5000)
    sql_store.set_tag(run_id, RunTag("mlflow.runName", "renamed"))
    assert sql_store.get_run(run_id).info.run_name == "renamed"
    sql_store.update_run_info(run_id, run_name="again")
    assert sql_store.get_run(run_id).data.tags["mlflow.runName"] == "again"
    with pytest.raises(InvalidParameter):
        sql_store.update_run_info(run_id, status="BOGUS")


def test_delete_tag(sql_store):
    run_id = _run(sql_store, tags=[RunTag("x", "1")]).info.run_id
    sql_store.delete_tag(run_id, "x")
    assert "x" not in sql_store.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        sql_store.delete_tag(run_id, "x")


def test_metric_history_pages(sql_store):
    run_id = _run(sql_store).info.run_id
    sql_store.log_batch(run_id, metrics=[Metric("m", float(i), 1000 + i, i) for i in range(25)])
    first = sql_store.get_metric_history(run_id, "m", max_results=10)
    assert len(first) == 10 and first.token
    second = sql_store.get_metric_history(run_id, "m", max_results=10, page_token=first.token)
    third = sql_store.get_metric_history(run_id, "m", max_results=10, page_token=second.token)
    assert [m.step for m in first + second + third] == list(range(25))
    assert third.token is None


def test_bulk_interval_keeps_first_and_last_step(sql_store):
    run_ids = [_run(sql_store).info.run_id for _ in range(2)]
    for run_id in run_ids:
        sql_store.log_batch(run_id, metrics=[Metric("m", float(i), i, i) for i in range(1000)])
    points = sql_store.get_metric_history_bulk_interval(run_ids, "m", max_results=10)
    for run_id in run_ids:
        steps = [p.step for p in points if p.run_id == run_id]
        assert len(steps) == 10
        assert steps[0] == 0 and steps[-1] == 999


def test_search_runs_filter_order_and_pages(sql_store):
    exp_id = sql_store.create_experiment("search")
    ids = []
    for i in range(7):
        run_id = _run(sql_store, exp_id, run_name=f"r{i}").info.run_id
        sql_store.log_batch(
            run_id,
            metrics=[Metric("acc", i / 10, 1, 0)],
            params=[Param("solver", "auto" if i % 2 else "lbfgs")],
        )
        ids.append(run_id)
    found = sql_store.search_runs(
        [exp_id], "metrics.acc > 0.2 and params.solver = 'auto'", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_id for r in found] == [ids[5], ids[3]]
    page1 = sql_store.search_runs([exp_id], None, max_results=4, order_by=["metrics.acc ASC"])
    page2 = sql_store.search_runs(
        [exp_id], None, max_results=4, order_by=["metrics.acc ASC"], page_token=page1.token
    )
    assert [r.info.run_id for r in page1 + page2] == ids
    assert page2.token is None
    sql_store.delete_run(ids[0])
    assert len(sql_store.search_runs([exp_id], None)) == 6
    deleted = sql_store.search_runs([exp_id], None, run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [ids[0]]
    assert len(sql_store.search_runs([exp_id], None, run_view_type=ViewType.ALL)) == 7


def test_search_aggregates_and_or(sql_store):
    exp_id = sql_store.create_experiment("agg")
    a = _run(sql_store, exp_id).info.run_id
    b = _run(sql_store, exp_id).info.run_id
    sql_store.log_batch(
        a, metrics=[Metric("loss", v, 1, s) for s, v in enumerate([0.9, 0.05, 0.5])]
    )
    sql_store.log_batch(b, metrics=[Metric("loss", v, 1, s) for s, v in enumerate([0.9, 0.4, 0.3])])
    assert {r.info.run_id for r in sql_store.search_runs([exp_id], "min(metrics.loss) < 0.1")} == {
        a
    }
    assert {r.info.run_id for r in sql_store.search_runs([exp_id], "metrics.loss < 0.4")} == {b}
    both = sql_store.search_runs([exp_id], "metrics.loss < 0.4 OR min(metrics.loss) < 0.1")
    assert {r.info.run_id for r in both} == {a, b}


def test_search_runs_pages_through_nan_and_missing_metrics(sql_store):
    # Ordered by a metric, the SQL store reads real values, NaN and missing in separate passes;
    # page tokens must carry the offset across those boundaries wherever a page ends.
    exp_id = sql_store.create_experiment("passes")
    values = {"a": 0.5, "b": 2.0, "c": math.nan, "d": None, "e": -1.0, "f": math.nan, "g": None}
    values["h"] = 2.0
    ids = {}
    for name, value in values.items():
        ids[name] = _run(sql_store, exp_id, run_name=name).info.run_id
        metrics = [Metric("other", 1.0, 1, 0)]
        if value is not None:
            metrics.append(Metric("acc", value, 1, 0))
        sql_store.log_batch(ids[name], metrics=metrics)

    def by_id(*names):  # same start time: the run id breaks ties
        return sorted((ids[n] for n in names), key=str)

    nan_then_missing = by_id("c", "f") + by_id("d", "g")
    expected = {
        "metrics.acc DESC": by_id("b", "h") + [ids["a"], ids["e"]] + nan_then_missing,
        "metrics.acc ASC": [ids["e"], ids["a"]] + by_id("b", "h") + nan_then_missing,
    }
    for order, want in expected.items():
        everything = sql_store.search_runs([exp_id], None, order_by=[order])
        assert [r.info.run_id for r in everything] == want
        assert everything.token is None
        for size in (1, 2, 3, 5):
            got, token = [], None
            while True:
                page = sql_store.search_runs(
                    [exp_id], None, max_results=size, order_by=[order], page_token=token
                )
                got += [r.info.run_id for r in page]
                token = page.token
                if token is None:
                    break
            assert got == want, (order, size)
    # NaN passes "!=": those runs come after the real values, and the metric reads back NaN.
    found = sql_store.search_runs([exp_id], "metrics.acc != 0.5", order_by=["metrics.acc"])
    assert [r.info.run_id for r in found] == [ids["e"]] + by_id("b", "h") + by_id("c", "f")
    assert math.isnan(found[-1].data.metrics["acc"])


def test_search_experiments(sql_store):
    for name in ("alpha", "beta", "gamma"):
        sql_store.create_experiment(name)
    found = sql_store.search_experiments(filter_string="name LIKE '%a'", order_by=["name ASC"])
    assert [e.name for e in found] == ["alpha", "beta", "gamma"]
    page = sql_store.search_experiments(max_results=2)
    assert len(page) == 2 and page.token
    with pytest.raises(InvalidParameter):
        sql_store.search_experiments(max_results=0)


def test_malformed_filter_says_where(sql_store):
    from mltrail.exceptions import SearchSyntaxError

    with pytest.raises(SearchSyntaxError) as info:
        sql_store.search_runs(["0"], "metrics.acc > ")
    assert info.value.position is not None


def test_count_runs(sql_store):
    exp_id = sql_store.create_experiment("counted")
    empty = sql_store.create_experiment("empty")
    for start in (10, 30, 20):
        sql_store.create_run(exp_id, "u", start, [], None)
    gone = sql_store.create_run(exp_id, "u", 99, [], None)
    sql_store.delete_run(gone.info.run_id)
    assert sql_store.count_runs([exp_id, empty]) == {exp_id: (3, 30), empty: (0, None)}
