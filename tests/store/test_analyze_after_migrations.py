"""PostgreSQL plans searches from table statistics: a fresh database is analyzed by the
migrations, so its first metric-ordered search does not get a plan made without them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.mark.postgres
def test_migrations_leave_postgresql_analyzed(pg_uri: str, tmp_path) -> None:
    from mltrail.store.sql.store import SqlStore

    store = SqlStore(pg_uri, str(tmp_path / "artifacts"))
    with store.engine.connect() as conn:
        # reltuples is -1 for a table that was never analyzed (PostgreSQL 14+)
        never = conn.execute(
            sa.text(
                "SELECT relname FROM pg_class WHERE relname IN "
                "('runs', 'latest_metrics', 'params', 'tags') AND reltuples < 0"
            )
        ).all()
    assert never == []
