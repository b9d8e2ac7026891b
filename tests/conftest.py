"""Fixtures shared by every test: real databases (SQLite files and the machine's PostgreSQL),
and a clean tracking context per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URI = os.environ.get(
    "MLTRAIL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# Client heartbeats are off for the whole test process (and the processes it starts): a beat
# thread outlives its test, and with a test server's port reused by a later test its beats
# would land there. The lease and fault tests turn them on for themselves.
os.environ["MLTRAIL_RUN_HEARTBEATS"] = "false"


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URI.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI but is not reachable.")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    return PG_ADMIN_URI


@pytest.fixture
def pg_uri(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"mltrail_test_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = pg_server.rsplit("/", 1)[0] + "/" + name
    yield uri
    from mltrail.store.sql.engine import dispose_engines
    from mltrail.store.store_cache import reset_stores

    reset_stores()
    dispose_engines()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


@pytest.fixture
def mysql_uri() -> Iterator[str]:
    """A fresh MySQL/MariaDB database for one test, dropped afterwards."""
    try:
        import pymysql

        admin = pymysql.connect(**MYSQL_ADMIN, connect_timeout=3)
    except Exception:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail("MariaDB on 127.0.0.1:3306 is required in CI but is not reachable.")
        pytest.skip("MariaDB on 127.0.0.1:3306 is not reachable")
    name = f"mltrail_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    yield f"mysql://root@127.0.0.1:3306/{name}"
    from mltrail.store.sql.engine import dispose_engines
    from mltrail.store.store_cache import reset_stores

    reset_stores()
    dispose_engines()
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


@pytest.fixture
def sqlite_uri(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "mltrail.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_uri(request, tmp_path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "mltrail.db")
    return request.getfixturevalue("pg_uri")


@pytest.fixture
def sql_store(db_uri, tmp_path):
    from mltrail.store.sql.store import SqlStore

    return SqlStore(db_uri, str(tmp_path / "artifacts"))


@pytest.fixture(autouse=True)
def _clean_tracking_context(tmp_path, monkeypatch) -> Iterator[None]:
    """Each test starts in its own folder, with no tracking URI and no active run."""
    for var in (
        "MLTRAIL_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
        "MLTRAIL_ARTIFACT_ROOT",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLTRAIL_QUIET", "1")
    # The CLI, run in-process by some tests, lowers the process's HTTP retries for people
    # waiting at a prompt; each test starts from the library's default.
    from mltrail.store import http_policy

    monkeypatch.setattr(http_policy, "_default_retries", http_policy.BATCH_RETRIES)
    monkeypatch.chdir(tmp_path)
    yield
    try:
        from mltrail.tracking import fluent
    except ImportError:
        return
    fluent._reset_for_tests()
