"""Revision 0004 adds the registry tables to a 0003 database exactly as ``registry_schema.py``
declares them, on SQLite, PostgreSQL and MariaDB, keeping what was there; downgrading to 0003
drops only them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mltrail.store.sql import migrate
from mltrail.store.sql.engine import dispose_engines, get_engine
from mltrail.store.sql.registry_schema import metadata

NEW_TABLES = {
    "registered_models",
    "registered_model_tags",
    "registered_model_aliases",
    "model_versions",
    "model_version_tags",
    "webhooks",
}


def _differences(engine: sa.engine.Engine) -> list[object]:
    def ours(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        table = getattr(obj, "table", obj) if kind != "table" else obj
        return getattr(table, "name", name) in NEW_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": ours, "compare_type": False}
        )
        return compare_metadata(context, metadata)


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_upgrade_from_0003_matches_the_schema(backend, request, tmp_path):
    uri = {
        "sqlite": lambda: "sqlite:///" + str(tmp_path / "old.db"),
        "postgresql": lambda: request.getfixturevalue("pg_uri"),
        "mysql": lambda: request.getfixturevalue("mysql_uri"),
    }[backend]()
    engine = get_engine(uri)
    migrate.upgrade(engine, "0003")
    assert not sa.inspect(engine).has_table("registered_models")
    assert migrate.upgrade(engine, "0004") is True
    assert migrate.current_revision(engine) == "0004"
    assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
    assert _differences(engine) == []
    dispose_engines()

    from mltrail.store.sql.registry import SqlRegistryStore

    registry = SqlRegistryStore(uri, str(tmp_path / "artifacts"))
    assert registry.create_registered_model("after-upgrade").name == "after-upgrade"


def test_downgrade_to_0003_drops_only_the_registry(sqlite_uri):
    engine = get_engine(sqlite_uri)
    migrate.upgrade(engine, "0004")
    before = set(sa.inspect(engine).get_table_names())
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrate._MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    assert before - set(sa.inspect(engine).get_table_names()) == NEW_TABLES
    assert migrate.upgrade(engine) is True
