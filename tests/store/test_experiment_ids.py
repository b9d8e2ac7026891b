"""A purged experiment's id is never handed out again (MLflow's semantic; artifact folders are
keyed by the id): after ``mltrail gc`` removes the newest experiment, the next one gets a new
id, on SQLite (whose keys would otherwise come back) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from mltrail.store.gc import collect
from mltrail.store.sql import migrate
from mltrail.store.sql.engine import dispose_engines, get_engine
from mltrail.store.sql.store import SqlStore


def test_ids_of_purged_experiments_never_come_back(db_uri: str, tmp_path: Path) -> None:
    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    first = store.create_experiment("first")
    newest = store.create_experiment("newest")
    store.delete_experiment(newest)
    report = collect(store.engine, experiment_ids=[newest])
    assert report.experiments == [f"newest ({newest})"]
    again = store.create_experiment("newest")  # the name is free again, the id is not
    assert int(again) > int(newest) > int(first)
    assert store.get_experiment(again).artifact_location.endswith(f"/{again}")
    # A fresh store on the same database (a restart) keeps counting upwards too.
    store.delete_experiment(again)
    collect(store.engine, experiment_ids=[again])
    dispose_engines()
    reopened = SqlStore(db_uri, str(tmp_path / "artifacts"))
    assert int(reopened.create_experiment("after-restart")) > int(again)


def test_an_upgraded_sqlite_database_counts_from_its_largest_id(tmp_path: Path) -> None:
    uri = "sqlite:///" + str(tmp_path / "old.db")
    engine = get_engine(uri)
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage)"
                " VALUES (0, 'Default', '/tmp/d/0', 'active'), (7, 'old', '/tmp/a', 'deleted')"
            )
        )
    assert migrate.upgrade(engine) is True
    with engine.connect() as conn:
        seeded = conn.execute(sa.text("SELECT value FROM id_counters")).scalar()
    assert seeded == 7
    dispose_engines()
    store = SqlStore(uri, str(tmp_path / "artifacts"))
    collect(store.engine, experiment_ids=["7"])
    assert store.create_experiment("new") == "8"
