"""Schema migrations (Alembic), applied on first use and by ``mltrail db upgrade``.

Opening a store only runs one cheap query when the schema is current; Alembic itself is
imported only when there is something to do.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

HEAD_REVISION = "0005"
_MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def current_revision(engine: Engine) -> str | None:
    import sqlalchemy as sa

    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Bring the database to the newest schema (or to ``revision``). Returns True if anything
    was applied."""
    if current_revision(engine) == (HEAD_REVISION if revision == "head" else revision):
        return False
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        if conn.dialect.name == "postgresql":
            # A database never analyzed has no statistics: the planner chose a 565 ms plan for
            # a metric-ordered search that takes 2 ms once the tables are analyzed.
            # Our tables only: a bare ANALYZE also walks every system catalog.
            import sqlalchemy as sa

            from mltrail.store.sql.schema import metadata

            names = [t.name for t in metadata.sorted_tables if sa.inspect(conn).has_table(t.name)]
            if names:
                conn.execute(sa.text("ANALYZE " + ", ".join(f'"{n}"' for n in names)))
    return True
