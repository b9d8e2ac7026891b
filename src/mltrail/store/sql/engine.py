"""Engines for SQL tracking stores: URI checks, SQLite pragmas, pooled connections, and the
translation of driver errors into mltrail exceptions (in one place)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mltrail.exceptions import InvalidParameter, MltrailException, StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def normalize_db_uri(uri: str) -> str:
    """Check a database URI and pick the driver we ship with for each dialect."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise InvalidParameter(
            f"Malformed database URI {uri!r}: expected something like sqlite:///path.db or "
            "postgresql://user@host:5432/db."
        )
    dialect, _, driver = scheme.partition("+")
    if dialect not in SUPPORTED_SCHEMES:
        raise InvalidParameter(
            f"Unsupported database scheme {dialect!r} in {uri!r}; use one of "
            "sqlite, postgresql, mysql."
        )
    if dialect == "postgres":
        dialect = "postgresql"
    if not driver:
        driver = {"postgresql": "psycopg", "mysql": "pymysql"}.get(dialect, "")
    return f"{dialect}{'+' + driver if driver else ''}://{rest}"


def get_engine(uri: str) -> Engine:
    """One pooled engine per database URI and process (engines are thread-safe)."""
    uri = normalize_db_uri(uri)
    engine = _engines.get(uri)
    if engine is not None:
        return engine
    with _engines_lock:
        engine = _engines.get(uri)
        if engine is None:
            engine = _create_engine(uri)
            _engines[uri] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after fork, and in tests)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(uri: str) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy import event

    if uri.startswith("sqlite"):
        path = uri.split(":///", 1)[1] if ":///" in uri else ""
        if path and path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise InvalidParameter(
                    f"Cannot open {uri!r}: the folder {parent!r} does not exist."
                )
        engine = sa.create_engine(
            uri,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL: readers never block the writer; NORMAL sync is durable across a process
            # crash (SIGKILL), which is what a training job needs; the busy timeout makes
            # concurrent writers wait instead of failing with "database is locked".
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            # Let Python, not sqlite3, manage transactions so BEGIN IMMEDIATE is possible.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    connect_args = {}
    if uri.startswith("mysql+pymysql"):
        # Experiment 0 ("Default") must keep id 0; MySQL would renumber it without this.
        connect_args["init_command"] = (
            "SET SESSION sql_mode=CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
        )
        connect_args["charset"] = "utf8mb4"
    if uri.startswith("postgresql+psycopg"):
        # Server-side prepared statements make PostgreSQL switch to generic plans that ignore
        # how selective a search filter is (1 ms became 350 ms in benchmarks/search_100k.py).
        connect_args["prepare_threshold"] = None
    try:
        return sa.create_engine(
            uri, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args
        )
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"The database driver for {uri.split('://')[0]!r} is not installed ({exc.name}); "
            "install mltrail[postgres] or mltrail[mysql]."
        ) from None


@contextlib.contextmanager
def transaction(engine: Engine, write: bool = False) -> Iterator[Connection]:
    """A connection inside one transaction, committed on success and rolled back on error.

    Driver errors leave as ``StoreUnavailable`` or ``MltrailException`` with a clear sentence.
    ``write=True`` takes SQLite's write lock up front so two writers never deadlock mid-way.
    """
    import sqlalchemy.exc as sa_exc

    try:
        with engine.connect() as conn:
            conn.info["write"] = write
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info["write"] = False
    except MltrailException:
        raise
    except sa_exc.OperationalError as exc:
        raise StoreUnavailable(f"The tracking database could not be used: {_short(exc)}") from exc
    except sa_exc.IntegrityError as exc:
        raise MltrailException(
            f"The write conflicts with data already stored: {_short(exc)}",
            error_code="RESOURCE_CONFLICT",
        ) from exc


def _short(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
