"""Revision 0002 packs the points of a 0001 database (a row a point) into chunks, and keeps
every point, NaN and infinities included."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from mltrail.store.sql import migrate
from mltrail.store.sql.engine import dispose_engines, get_engine

INF = float("inf")


def _table(name: str, *columns: str) -> sa.TableClause:
    # Lightweight tables of revision 0001 (schema.py describes the newest one): quoting of
    # names such as "key" is left to each dialect.
    return sa.table(name, *(sa.column(c) for c in columns))


def _fill_revision_0001(engine: sa.engine.Engine) -> None:
    migrate.upgrade(engine, "0001")
    experiments = _table("experiments", "experiment_id", "name", "artifact_location",
                         "lifecycle_stage")  # fmt: skip
    runs = _table("runs", "run_uuid", "name", "experiment_id", "user_id", "status",
                  "start_time", "lifecycle_stage", "artifact_uri")  # fmt: skip
    latest = _table("latest_metrics", "series_id", "run_uuid", "key", "value", "timestamp",
                    "step", "is_nan", "min_value", "max_value")  # fmt: skip
    points = _table("metrics", "series_id", "timestamp", "step", "value", "is_nan")
    with engine.begin() as conn:
        conn.execute(
            experiments.insert(),
            {"experiment_id": 7, "name": "old", "artifact_location": "/tmp/a",
             "lifecycle_stage": "active"},
        )  # fmt: skip
        conn.execute(
            runs.insert(),
            {"run_uuid": "r1", "name": "old-run", "experiment_id": 7, "user_id": "me",
             "status": "FINISHED", "start_time": 1, "lifecycle_stage": "active",
             "artifact_uri": "/tmp/a/r1"},
        )  # fmt: skip
        conn.execute(
            latest.insert(),
            [
                {"series_id": sid, "run_uuid": "r1", "key": key, "value": 0, "timestamp": 0,
                 "step": 0, "is_nan": False, "min_value": 0, "max_value": 0}
                for sid, key in ((1, "loss"), (2, "acc"))
            ],
        )  # fmt: skip
        rows = [
            {"series_id": 1, "timestamp": 100 + i, "step": i, "value": 1.0 / (i + 1),
             "is_nan": False}
            for i in range(300)
        ]  # fmt: skip
        rows.append({"series_id": 1, "timestamp": 50, "step": 7, "value": 0.0, "is_nan": True})
        big = 1.7e308 if engine.dialect.name == "mysql" else INF  # MySQL stores no infinity
        rows.append({"series_id": 2, "timestamp": 5, "step": 0, "value": big, "is_nan": False})
        conn.execute(points.insert(), rows)


def test_upgrade_keeps_every_point(sqlite_uri, tmp_path):
    from mltrail.store.sql.store import SqlStore

    db_uri = sqlite_uri
    engine = get_engine(db_uri)
    _fill_revision_0001(engine)
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    assert not sa.inspect(engine).has_table("metrics")
    dispose_engines()

    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    loss = store.get_metric_history("r1", "loss")
    assert len(loss) == 301
    assert (loss[0].timestamp, loss[0].step) == (50, 7) and math.isnan(loss[0].value)
    assert [m.step for m in loss[1:]] == list(range(300))
    assert loss[-1].value == pytest.approx(1 / 300)
    assert [m.value for m in store.get_metric_history("r1", "acc")] == [INF]


def test_upgrade_on_postgres_keeps_points(pg_uri, tmp_path):
    from mltrail.store.sql.store import SqlStore

    engine = get_engine(pg_uri)
    _fill_revision_0001(engine)
    migrate.upgrade(engine)
    dispose_engines()
    store = SqlStore(pg_uri, str(tmp_path / "artifacts"))
    assert [m.step for m in store.get_metric_history("r1", "loss")][1:] == list(range(300))


@pytest.mark.mysql
def test_upgrade_on_mysql_keeps_points(mysql_uri, tmp_path):
    from mltrail.store.sql.store import SqlStore

    engine = get_engine(mysql_uri)
    _fill_revision_0001(engine)
    migrate.upgrade(engine)
    dispose_engines()
    store = SqlStore(mysql_uri, str(tmp_path / "artifacts"))
    assert [m.step for m in store.get_metric_history("r1", "loss")][1:] == list(range(300))
    assert [m.value for m in store.get_metric_history("r1", "acc")] == [1.7e308]
