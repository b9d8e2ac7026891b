"""Revision 0003 adds the logged-model tables to a 0002 database, exactly as ``schema.py``
declares them, and leaves what was there untouched; downgrading removes them again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mltrail.store.sql import migrate
from mltrail.store.sql.engine import dispose_engines, get_engine
from mltrail.store.sql.schema import metadata

NEW_TABLES = {
    "logged_models",
    "logged_model_tags",
    "logged_model_params",
    "logged_model_metrics",
    "run_model_outputs",
    "run_model_inputs",
}


def _differences(engine: sa.engine.Engine) -> list[object]:
    """What the database lacks or has beyond ``schema.py`` for the new tables."""

    def ours(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        table = getattr(obj, "table", obj) if kind != "table" else obj
        return getattr(table, "name", name) in NEW_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": ours, "compare_type": True}
        )
        return compare_metadata(context, metadata)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_upgrade_from_0002_matches_the_schema(backend, request, tmp_path):
    uri = (
        "sqlite:///" + str(tmp_path / "old.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_uri")
    )
    engine = get_engine(uri)
    migrate.upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage)"
                " VALUES (7, 'old', '/tmp/a', 'active')"
            )
        )
    assert not sa.inspect(engine).has_table("logged_models")
    assert migrate.upgrade(engine) is True
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
    assert _differences(engine) == []
    dispose_engines()

    from mltrail.store.sql.store import SqlStore

    store = SqlStore(uri, str(tmp_path / "artifacts"))
    assert store.get_experiment("7").name == "old"
    model = store.create_logged_model("7", name="after-upgrade")
    assert model.artifact_location == f"/tmp/a/models/{model.model_id}/artifacts"


def test_downgrade_to_0002_drops_only_the_new_tables(sqlite_uri):
    engine = get_engine(sqlite_uri)
    migrate.upgrade(engine, "0003")
    before = set(sa.inspect(engine).get_table_names())
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrate._MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    after = set(sa.inspect(engine).get_table_names())
    assert before - after == NEW_TABLES
    assert migrate.current_revision(engine) == "0002"
    assert migrate.upgrade(engine) is True
    assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
