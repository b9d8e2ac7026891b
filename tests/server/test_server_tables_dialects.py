"""The server's own tables (run leases, idempotency keys, users and grants) and gc's purge on
every database: SQLite, PostgreSQL and MariaDB/MySQL (each dialect has its own upsert)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mltrail.server.auth.store import AuthStore
from mltrail.store.sql import purge
from mltrail.store.sql.idempotency import IdempotencyKeys
from mltrail.store.sql.leases import LeasePolicy, RunLeases
from mltrail.store.sql.store import SqlStore


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SqlStore:
    uri = {
        "sqlite": lambda: request.getfixturevalue("sqlite_uri"),
        "postgresql": lambda: request.getfixturevalue("pg_uri"),
        "mysql": lambda: request.getfixturevalue("mysql_uri"),
    }[request.param]()
    return SqlStore(uri, str(tmp_path / "artifacts"))


def test_leases_on_every_database(store: SqlStore) -> None:
    leases = RunLeases(store, LeasePolicy(lease_seconds=1.0, silent_lease_seconds=2.0))
    silent = store.create_run("0", "u", int(time.time() * 1000))
    beating = store.create_run("0", "u", int(time.time() * 1000))
    orphan = store.create_run("0", "u", 1000)  # written directly, never seen by a server
    leases.touch(silent.info.run_id)
    leases.flush()
    leases.touch(silent.info.run_id)
    leases.flush()  # the upsert's update branch
    leases.heartbeat(beating.info.run_id)
    leases.heartbeat(beating.info.run_id)
    assert leases.adopt() == 1
    now = int(time.time() * 1000)
    assert sorted(leases.reap(now + 1500)) == sorted([beating.info.run_id, orphan.info.run_id])
    assert leases.reap(now + 10_000) == [silent.info.run_id]
    assert store.get_run(silent.info.run_id).info.status == "KILLED"
    leases.heartbeat(silent.info.run_id)  # signs of life
    assert store.get_run(silent.info.run_id).info.status == "RUNNING"


def test_idempotency_keys_on_every_database(store: SqlStore) -> None:
    keys = IdempotencyKeys(store.engine)
    assert keys.claim("k1", "runs/create", "h") is None
    assert keys.claim("k1", "runs/create", "h") == (None, None)
    keys.keep("k1", 200, b'{"run": 1}')
    assert keys.claim("k1", "runs/create", "h") == (200, b'{"run": 1}')
    keys.release("k1")
    assert keys.claim("k1", "runs/create", "h") is None


def test_auth_store_and_purge_on_every_database(store: SqlStore) -> None:
    auth = AuthStore(store.engine)
    auth.create_user("ann", "a-long-enough-secret")
    assert auth.authenticate("ann", "a-long-enough-secret") is not None
    auth.grant("experiment", "0", "ann", "EDIT")
    auth.create_group("g")
    auth.add_member("g", "ann")
    auth.grant_group("g", "registered_model", "m", "MANAGE")
    assert auth.group_grant("registered_model", "m", auth.get_user("ann").id) == "MANAGE"
    auth.note("ann", "POST", "/x", 200, "127.0.0.1")
    assert auth.audit_entries(1)[0]["username"] == "ann"
    auth.delete_user("ann")

    exp = store.create_experiment("doomed")
    run = store.create_run(exp, "u", 0)
    store.log_batch(run.info.run_id, metrics=[])
    store.delete_experiment(exp)
    garbage = purge.find_garbage(store.engine)
    assert [r.run_id for r in garbage.runs] == [run.info.run_id]
    purge.purge_run(store.engine, run.info.run_id)
    purge.purge_experiment(store.engine, exp)
    assert store.get_experiment_by_name("doomed") is None
    store.create_experiment("doomed")  # the name is free
