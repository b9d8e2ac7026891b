"""Engines for SQL tracking stores: URI checks, SQLite pragmas, pooled connections, and the
translation of driver errors into mltrail exceptions (in one place)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from mltrail.exceptions import InvalidParameter, MltrailException, StoreUnavailable
from mltrail.store.sql.common import DriverConnection, DriverSql

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")

# SQLite transactions begin on the driver: through SQLAlchemy, BEGIN cost as much as a
# run's insert.
_BEGIN = DriverSql("BEGIN")
_BEGIN_IMMEDIATE = DriverSql("BEGIN IMMEDIATE")

# WAL pages between checkpoints (SQLite's default is 1000). A checkpoint copies every page
# the log holds back into the database file and syncs it, on the commit that crossed the
# limit; pages written again and again (the ends of the run-id indexes, the file header) are
# copied once per checkpoint, so a longer log copies a third less per run (measured: ~170 ->
# ~110 us per run) for a log file of at most 16 MB. Durability is the same: a commit is in
# the log before it returns, whenever it is copied back.
WAL_CHECKPOINT_PAGES = 4000

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


def _fresh_pools_in_child() -> None:
    # A forked child must not use its parent's pooled connections (a SQLite or PostgreSQL
    # connection shared by two processes corrupts both): it opens its own, leaving the
    # parent's untouched (close=False).
    for engine in list(_engines.values()):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pools_in_child)


def apply_sqlite_pragmas(dbapi_conn: Any) -> None:
    """What every SQLite connection of a store is opened with (a ``sqlite3`` connection).

    WAL: readers never block the writer; NORMAL sync is durable across a process crash
    (SIGKILL), which is what a training job needs; the busy timeout makes concurrent writers
    wait instead of failing with "database is locked"."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cur.close()
    # Let Python, not sqlite3, manage transactions so BEGIN IMMEDIATE is possible.
    dbapi_conn.isolation_level = None


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
            # The connection used last has the freshest page cache (SQLite drops a
            # connection's cache whenever another one wrote).
            pool_use_lifo=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            apply_sqlite_pragmas(dbapi_conn)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            (_BEGIN_IMMEDIATE if conn.info.get("write") else _BEGIN).execute(conn)

        return engine
    connect_args: dict[str, Any] = {}
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
        scheme = uri.split("://")[0]
        raise StoreUnavailable(
            f"The database driver for {scheme!r} is not installed ({exc.name}); "
            f"{driver_hint(scheme)}"
        ) from None


def driver_hint(scheme: str) -> str:
    """How to install the driver of one database: only the extra that fits the URI."""
    backend = scheme.split("+", 1)[0].lower()
    extra = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql"}.get(backend)
    if extra is None:
        return f"install the SQLAlchemy driver named in {scheme!r}."
    return f"install it with: pip install 'mltrail[{extra}]'."


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
    except sa_exc.DBAPIError as exc:
        _raise_translated(exc)


@contextlib.contextmanager
def driver_transaction(engine: Engine) -> Iterator[DriverConnection]:
    """A write transaction for work done wholly with ``DriverSql`` statements, on a pooled
    driver connection: SQLAlchemy's connection and transaction objects (events, bookkeeping,
    pool reset) cost more than the BEGIN and COMMIT they wrap. Errors leave as from
    ``transaction``; SQLite's write lock is taken up front, as there."""
    import sqlalchemy.exc as sa_exc

    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
        try:
            conn = DriverConnection(pooled, dialect)
            if dialect.name == "sqlite":
                _BEGIN_IMMEDIATE.execute(conn)
            yield conn
            pooled.commit()
        except BaseException:
            pooled.rollback()
            raise
        finally:
            pooled.close()
    except sa_exc.DBAPIError as exc:
        _raise_translated(exc)
    except dialect.loaded_dbapi.Error as exc:  # from COMMIT or ROLLBACK
        error = dialect.loaded_dbapi.Error
        _raise_translated(sa_exc.DBAPIError.instance(None, None, exc, error, dialect=dialect))


def _raise_translated(exc: BaseException) -> NoReturn:
    """Raise a driver error as the store reports it: a database that cannot be used, or a
    conflicting write, in one sentence; others (a value the database refused) as they are."""
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, sa_exc.OperationalError):
        raise StoreUnavailable(f"The tracking database could not be used: {_short(exc)}") from exc
    if isinstance(exc, sa_exc.IntegrityError):
        raise MltrailException(
            f"The write conflicts with data already stored: {_short(exc)}",
            error_code="RESOURCE_CONFLICT",
        ) from exc
    raise exc


def driver_error_types() -> tuple[type[Exception], ...]:
    """The database errors that can escape a store call (for a server's error handlers): the
    one place outside the stores that knows SQLAlchemy's exception classes."""
    import sqlalchemy.exc as sa_exc

    return (sa_exc.DataError, sa_exc.OperationalError, sa_exc.TimeoutError)


def translate_driver_error(exc: BaseException) -> MltrailException | None:
    """A database error that escaped a store as the ``MltrailException`` a user should see:
    a value the database refused (a 400), a database busy or down (``StoreUnavailable``, a
    503 that clients retry), a conflicting write. None for anything else."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.SQLAlchemyError):
        return None  # SQLAlchemy never loaded: it cannot be its error
    if isinstance(exc, sa_exc.DataError):
        return InvalidParameter(f"The database refused a value in the request: {_short(exc)}")
    if isinstance(exc, sa_exc.IntegrityError):
        return MltrailException(
            f"The write conflicts with data already stored: {_short(exc)}",
            error_code="RESOURCE_CONFLICT",
        )
    return StoreUnavailable(f"The tracking database could not be used: {_short(exc)}")


def _short(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
