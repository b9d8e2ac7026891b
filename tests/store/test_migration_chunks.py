"""Revision 0002 packs the points of a 0001 database (a row a point) into chunks, and keeps
every point, NaN and infinities included."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from mltrail.store.sql import migrate
from mltrail.store.sql.engine import dispose_engines, get_engine

INF = float("inf")


def _fill_revision_0001(engine: sa.engine.Engine) -> None:
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage)"
                " VALUES (7, 'old', '/tmp/a', 'active')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time,"
                " lifecycle_stage, artifact_uri) VALUES"
                " ('r1', 'old-run', 7, 'me', 'FINISHED', 1, 'active', '/tmp/a/r1')"
            )
        )
        for sid, key in ((1, "loss"), (2, "acc")):
            conn.execute(
                sa.text(
                    "INSERT INTO latest_metrics (series_id, run_uuid, key, value, timestamp,"
                    " step, is_nan, min_value, max_value)"
                    " VALUES (:sid, 'r1', :key, 0, 0, 0, :f, 0, 0)"
                ),
                {"sid": sid, "key": key, "f": False},
            )
        rows = [
            {"sid": 1, "ts": 100 + i, "step": i, "value": 1.0 / (i + 1), "nan": False}
            for i in range(300)
        ]
        rows.append({"sid": 1, "ts": 50, "step": 7, "value": 0.0, "nan": True})
        rows.append({"sid": 2, "ts": 5, "step": 0, "value": INF, "nan": False})
        conn.execute(
            sa.text(
                "INSERT INTO metrics (series_id, timestamp, step, value, is_nan)"
                " VALUES (:sid, :ts, :step, :value, :nan)"
            ),
            rows,
        )


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
