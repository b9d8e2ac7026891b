"""Creating and ending runs in the SQL store (the statements that run on the driver, with an
upsert where the database has one and a portable path where it has not), on every backend."""

from __future__ import annotations

import time
import uuid

import pytest

from mltrail.entities import Metric, Param, RunTag
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.store.sql.store import SqlStore


@pytest.fixture
def store(store_on_sql) -> SqlStore:
    return store_on_sql


def _start(store: SqlStore, exp_id: str = "0", tags: list[RunTag] | None = None) -> str:
    return store.create_run(exp_id, "alice", 1000, tags or [], None).info.run_id


def test_run_ids_are_uuid7_hex_growing_with_time(store: SqlStore) -> None:
    first = _start(store)
    time.sleep(0.002)
    second = _start(store)
    for run_id in (first, second):
        assert len(run_id) == 32 and uuid.UUID(run_id).version == 7
    assert first < second  # new runs land at the end of the run-id indexes


def test_created_run_is_stored_as_returned(store: SqlStore) -> None:
    exp_id = store.create_experiment("e")
    created = store.create_run(exp_id, "alice", 1234, [RunTag("team", "vision")], "ridge")
    fetched = store.get_run(created.info.run_id)
    assert fetched.info == created.info
    assert fetched.data.tags == {"team": "vision", "mlflow.runName": "ridge"}
    assert created.info.artifact_uri.endswith(f"/{exp_id}/{created.info.run_id}/artifacts")


def test_deleted_experiment_refuses_runs_until_restored(store: SqlStore) -> None:
    exp_id = store.create_experiment("e")
    _start(store, exp_id)
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        _start(store, exp_id)
    store.restore_experiment(exp_id)
    _start(store, exp_id)
    with pytest.raises(NotFound, match="No experiment with id=424242"):
        _start(store, "424242")


def test_finish_run_writes_everything_and_ends(store: SqlStore) -> None:
    run_id = _start(store, tags=[RunTag("t0", "at start")])
    info = store.finish_run(
        run_id,
        "FINISHED",
        5000,
        [("m", 0.5, 10, 0), ("m", 0.25, 20, 1)],
        [Param("p0", "1"), Param("p1", "2")],
        [RunTag("t0", "replaced"), RunTag("t1", "new"), RunTag("mlflow.runName", "final")],
    )
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 5000, "final")
    run = store.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "final"
    assert run.data.params == {"p0": "1", "p1": "2"}
    assert run.data.tags["t0"] == "replaced" and run.data.tags["t1"] == "new"
    assert run.data.metrics == {"m": 0.25}


def test_relogging_a_param_with_its_value_is_fine(store: SqlStore) -> None:
    run_id = _start(store)
    store.log_batch(run_id, params=[Param("a", "1")])
    store.finish_run(run_id, "FINISHED", 5000, (), [Param("a", "1"), Param("b", "2")], [])
    assert store.get_run(run_id).data.params == {"a": "1", "b": "2"}


def test_changed_param_refuses_the_whole_finish(store: SqlStore) -> None:
    run_id = _start(store)
    store.log_batch(run_id, params=[Param("a", "1"), Param("b", "1")])
    with pytest.raises(InvalidParameter, match="key='b' was already logged with value='1'"):
        store.finish_run(
            run_id,
            "FINISHED",
            5000,
            [("m", 1.0, 10, 0)],
            [Param("a", "1"), Param("b", "2"), Param("c", "3")],
            [RunTag("t", "x")],
        )
    run = store.get_run(run_id)
    assert run.info.status == "RUNNING" and run.info.end_time is None
    assert run.data.params == {"a": "1", "b": "1"}
    assert "t" not in run.data.tags and run.data.metrics == {}


def test_finish_refuses_deleted_or_unknown_runs(store: SqlStore) -> None:
    run_id = _start(store)
    store.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        store.finish_run(run_id, "FINISHED", 5000, (), [Param("p", "1")], [])
    store.restore_run(run_id)
    assert store.get_run(run_id).data.params == {}
    with pytest.raises(NotFound, match="not found"):
        store.finish_run("f" * 32, "FINISHED", 5000, (), [], [])


def test_bad_input_to_finish_fails_before_any_write(store: SqlStore) -> None:
    run_id = _start(store)
    with pytest.raises(InvalidParameter, match="maximum"):
        store.finish_run(
            run_id, "FINISHED", 5000, (), [Param("p", "1")], [RunTag("t", "x" * 16385)]
        )
    with pytest.raises(InvalidParameter, match="Duplicate"):
        store.finish_run(run_id, "FINISHED", 5000, (), [Param("p", "1"), Param("p", "2")], [])
    run = store.get_run(run_id)
    assert run.info.status == "RUNNING" and run.data.params == {}


def test_param_only_batches_write_and_check_on_the_driver(store: SqlStore) -> None:
    run_id = _start(store)
    store.write_points(run_id, (), [Param("a", "1")], [RunTag("t", "1")])
    store.write_points(run_id, (), [Param("a", "1")], [RunTag("t", "2")])
    with pytest.raises(InvalidParameter, match="Changing param values"):
        store.write_points(run_id, (), [Param("a", "9")], [RunTag("t", "3")])
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 10, 0)])
    data = store.get_run(run_id).data
    assert data.params == {"a": "1"} and data.tags["t"] == "2" and data.metrics == {"m": 1.0}


def test_driver_errors_leave_as_store_errors_and_roll_back(store: SqlStore) -> None:
    from mltrail.store.sql import run_writes
    from mltrail.store.sql.engine import driver_transaction

    run_id = _start(store)
    with pytest.raises(MltrailException) as caught, driver_transaction(store.engine) as conn:
        run_writes.INSERT_PARAM.executemany(conn, [(run_id, "fresh", "1")])
        # a duplicate:
        run_writes.INSERT_TAG.executemany(conn, [(run_id, "mlflow.runName", "again")])
    assert caught.value.error_code == "RESOURCE_CONFLICT"
    assert "conflicts with data already stored" in caught.value.message
    assert store.get_run(run_id).data.params == {}  # the first insert was rolled back
