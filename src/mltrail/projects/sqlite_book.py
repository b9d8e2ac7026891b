"""The project run's own bookkeeping on an embedded SQLite store, without SQLAlchemy.

``mltrail run`` writes little to the store itself: it creates the run, logs its params and
tags, keeps the command's output as an artifact and records how the run ended. On a SQLite
store that already exists at the current schema, it does so on a plain ``sqlite3``
connection with the SQL store's own statements and checks (``mltrail.store.sql.run_writes``)
and the same connection settings (``apply_sqlite_pragmas``), so that starting a project does
not import SQLAlchemy (most of the launcher's start-up time). Anything else it is asked
(creating an experiment, resuming a run) goes to a full ``TrailClient``, made on first use.
A store that does not exist yet or needs a migration is opened the usual way instead.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from mltrail.entities import LifecycleStage, Metric, Param, Run, RunData, RunInfo, RunStatus
from mltrail.entities import RunTag as RunTagEntity
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound, StoreUnavailable
from mltrail.store.sql import run_writes as sql
from mltrail.store.sql.common import RUN_NAME_TAG, new_run_id
from mltrail.tracking.uri import sqlite_path

if TYPE_CHECKING:
    from mltrail.tracking.client import TrailClient


class ExperimentRef(NamedTuple):
    """What a project run needs to know of its experiment."""

    experiment_id: str
    lifecycle_stage: str


class SqliteRunBook:
    """The subset of ``TrailClient`` that ``mltrail run`` uses, on one ``sqlite3``
    connection (used from the launcher's threads, one statement group at a time)."""

    def __init__(self, tracking_uri: str, conn: sqlite3.Connection) -> None:
        self.tracking_uri = tracking_uri
        self._conn = conn
        self._lock = threading.Lock()
        self._full: TrailClient | None = None
        self._artifact_uris: dict[str, str] = {}

    @classmethod
    def open(cls, tracking_uri: str) -> SqliteRunBook | None:
        """A book on ``tracking_uri`` if it is a SQLite file at the current schema, else None
        (the caller then opens the store the usual way, which creates or migrates it)."""
        from mltrail.store.sql.engine import apply_sqlite_pragmas
        from mltrail.store.sql.migrate import HEAD_REVISION

        path = sqlite_path(tracking_uri)
        if not path or path == ":memory:" or not os.path.isfile(path):
            return None
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        except sqlite3.Error:
            return None
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if row is None or row[0] != HEAD_REVISION:
                conn.close()
                return None
            apply_sqlite_pragmas(conn)
        except sqlite3.Error:
            conn.close()
            return None
        return cls(tracking_uri, conn)

    def full_client(self) -> TrailClient:
        """The usual client of the same store, for what the book does not do itself."""
        if self._full is None:
            from mltrail.tracking.client import TrailClient  # loaded only for these calls

            self._full = TrailClient(self.tracking_uri)
        return self._full

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, SQLite's write lock taken up front (as the store does);
        driver errors leave as the store reports them."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.IntegrityError as exc:
                raise MltrailException(
                    f"The write conflicts with data already stored: {exc}",
                    error_code="RESOURCE_CONFLICT",
                ) from exc
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"The tracking database could not be used: {exc}"
                ) from exc

    # -- experiments -----------------------------------------------------------------------
    def get_experiment(self, experiment_id: str) -> ExperimentRef:
        try:
            exp_id = int(experiment_id)
        except ValueError:
            raise InvalidParameter(f"Invalid experiment id {experiment_id!r}.") from None
        with self._transaction() as conn:
            found = conn.execute(sql.STAGE_AND_LOCATION.text, (exp_id,)).fetchone()
        if found is None:
            raise NotFound(f"No experiment with id={experiment_id} exists.")
        return ExperimentRef(str(exp_id), found[0])

    def get_experiment_by_name(self, name: str) -> ExperimentRef | None:
        with self._transaction() as conn:
            found = conn.execute(sql.EXPERIMENT_BY_NAME.text, (name,)).fetchone()
        return None if found is None else ExperimentRef(str(found[0]), found[1])

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        return self.full_client().create_experiment(name, artifact_location, tags)

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        tag_map = sql.new_run_tags(
            [RunTagEntity(k, str(val)) for k, val in (tags or {}).items()], run_name
        )
        user = tag_map.get("mlflow.user", "unknown")
        started = start_time if start_time is not None else int(time.time() * 1000)
        run_id = new_run_id()
        exp_id = int(experiment_id)
        with self._transaction() as conn:
            found = conn.execute(sql.STAGE_AND_LOCATION.text, (exp_id,)).fetchone()
            if found is None:
                raise NotFound(f"No experiment with id={experiment_id} exists.")
            stage, location = found
            if stage != LifecycleStage.ACTIVE:
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state. "
                    f"Current state is {stage}."
                )
            artifact_uri = f"{(location or '').rstrip('/')}/{run_id}/artifacts"
            conn.execute(sql.INSERT_RUN.text, (run_id, tag_map[RUN_NAME_TAG], exp_id, user,
                                               started, artifact_uri))
            conn.executemany(sql.INSERT_TAG.text, [(run_id, k, val) for k, val in tag_map.items()])
        self._artifact_uris[run_id] = artifact_uri
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(exp_id),
            run_name=tag_map[RUN_NAME_TAG],
            user_id=user,
            status="RUNNING",
            start_time=started,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=artifact_uri,
        )
        return Run(info, RunData(tags=tag_map))

    def get_run(self, run_id: str) -> Run:
        return self.full_client().get_run(run_id)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        self.full_client().update_run(run_id, status=status, name=name)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        return self.log_batch(run_id, tags=[RunTagEntity(key, str(value))])

    def _active_run(self, conn: sqlite3.Connection, run_id: str) -> tuple[Any, ...]:
        found = conn.execute(sql.RUN_ROW.text, (run_id,)).fetchone()
        if found is None:
            raise NotFound(f"Run with id={run_id} not found.")
        if found[7] != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. Current state is {found[7]}."
            )
        return tuple(found)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTagEntity] = (),
        synchronous: bool | None = None,
    ) -> Any:
        if metrics:
            return self.full_client().log_batch(run_id, metrics, params, tags, synchronous)
        param_map, tag_map = sql.checked_params_tags(params, tags)
        with self._transaction() as conn:
            self._active_run(conn, run_id)
            rows = [(run_id, k, val) for k, val in param_map.items()]
            if conn.executemany(sql.INSERT_NEW_PARAM.text, rows).rowcount < len(rows):
                logged = dict(conn.execute(sql.PARAMS_OF_RUN.text, (run_id,)).fetchall())
                changed = [k for k, val in param_map.items() if logged.get(k) != val]
                if changed:
                    raise InvalidParameter(
                        f"Changing param values is not allowed: {', '.join(changed)} were "
                        f"already logged to run {run_id} with other values."
                    )
            conn.executemany(sql.UPSERT_TAG.text, [(run_id, k, val) for k, val in tag_map.items()])
            if RUN_NAME_TAG in tag_map:
                conn.execute(sql.RENAME_RUN.text, (tag_map[RUN_NAME_TAG], run_id))
        return None

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        final_status = RunStatus.normalize(status or "FINISHED")
        final_time = end_time if end_time is not None else int(time.time() * 1000)
        with self._transaction() as conn:
            self._active_run(conn, run_id)
            conn.execute(sql.END_RUN.text, (final_status, final_time, run_id))

    # -- artifacts ---------------------------------------------------------------------------
    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        from mltrail.store.artifact import get_artifact_repository

        uri = self._artifact_uris.get(run_id)
        if uri is None:
            with self._transaction() as conn:
                uri = self._active_run(conn, run_id)[8] or ""
        if os.path.isdir(local_path):
            self.full_client().log_artifact(run_id, local_path, artifact_path)
            return
        get_artifact_repository(uri, self.tracking_uri).log_artifact(local_path, artifact_path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

