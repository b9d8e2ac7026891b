"""What the parts of ``SqlStore`` share: one engine, its transactions, the default artifact
root, and the row checks more than one part makes (each kept here, in one copy).

Every part (experiments, runs, metrics, logged models) is built with the same ``StoreContext``
and reaches the database only through it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mltrail.entities import LifecycleStage
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.base import MODEL_ID_PATTERN, model_not_found
from mltrail.store.sql.common import DriverConnection
from mltrail.store.sql.engine import driver_transaction, transaction
from mltrail.store.sql.rows import RUN_COLUMNS
from mltrail.store.sql.run_writes import RUN_ROW, STAGE_AND_LOCATION
from mltrail.store.sql.schema import experiments, logged_models, runs
from mltrail.utils import validation as v

# Built once: every read looks its run up, and building the query cost more than running it.
_RUN_BY_ID = sa.select(*RUN_COLUMNS).where(runs.c.run_uuid == sa.bindparam("run_id"))
_MODEL_BY_ID = sa.select(logged_models).where(logged_models.c.model_id == sa.bindparam("model_id"))

# A connection either kind of transaction hands out; ``DriverSql`` runs on both.
AnyConnection = Connection | DriverConnection


class RunRow(NamedTuple):
    """A run's row, as the driver returns it (the names of ``RUN_COLUMNS``)."""

    run_uuid: str
    name: str | None
    experiment_id: int
    user_id: str | None
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str | None


class StoreContext:
    """One database and the default artifact root, shared by every part of a ``SqlStore``."""

    def __init__(self, engine: Engine, default_artifact_root: str) -> None:
        self.engine = engine
        self.default_artifact_root = default_artifact_root.rstrip("/")

    # -- connections ---------------------------------------------------------------------------
    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for reads (no transaction of its own beyond the driver's)."""
        return self.engine.connect()

    def writing(self) -> AbstractContextManager[Connection]:
        """A write transaction (see ``engine.transaction``)."""
        return transaction(self.engine, write=True)

    def writing_on_driver(self) -> AbstractContextManager[DriverConnection]:
        """A write transaction for ``DriverSql`` statements only (see
        ``engine.driver_transaction``)."""
        return driver_transaction(self.engine)

    # -- experiments ---------------------------------------------------------------------------
    @staticmethod
    def experiment_row(conn: Connection, experiment_id: str) -> Any:
        exp_id = int(v.validate_experiment_id(experiment_id))
        row = conn.execute(
            sa.select(experiments).where(experiments.c.experiment_id == exp_id)
        ).first()
        if row is None:
            raise NotFound(f"No experiment with id={experiment_id} exists.")
        return row

    @staticmethod
    def active_experiment(conn: Connection, experiment_id: str) -> Any:
        """An experiment's row, refused unless it is active (it takes writes)."""
        row = StoreContext.experiment_row(conn, experiment_id)
        _require_active_experiment(experiment_id, row.lifecycle_stage)
        return row

    @staticmethod
    def active_experiment_location(conn: AnyConnection, experiment_id: str) -> tuple[int, str]:
        """The id and artifact location of an experiment that can take new runs and models;
        read in the caller's transaction, so a deleted experiment refuses them however
        recently deleted."""
        exp_id = int(v.validate_experiment_id(experiment_id))
        found = STAGE_AND_LOCATION.fetchall(conn, (exp_id,))
        if not found:
            raise NotFound(f"No experiment with id={experiment_id} exists.")
        stage, location = found[0]
        _require_active_experiment(experiment_id, stage)
        return exp_id, location or ""

    # -- runs ----------------------------------------------------------------------------------
    @staticmethod
    def run_row(conn: Connection, run_id: str) -> Any:
        """A run's row (``RUN_COLUMNS``), whatever its stage."""
        _check_run_id(run_id)
        row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
        if row is None:
            raise NotFound(f"Run with id={run_id} not found.")
        return row

    @staticmethod
    def active_run(conn: AnyConnection, run_id: str) -> RunRow:
        """The row of a run that takes writes (read inside the writing transaction)."""
        _check_run_id(run_id)
        found = RUN_ROW.fetchall(conn, (run_id,))
        if not found:
            raise NotFound(f"Run with id={run_id} not found.")
        row = RunRow(*found[0])
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row

    # -- logged models -------------------------------------------------------------------------
    @staticmethod
    def model_row(conn: Connection, model_id: str, allow_deleted: bool = False) -> Any:
        """A logged model's row; a deleted one counts as missing unless ``allow_deleted``."""
        if not isinstance(model_id, str) or not MODEL_ID_PATTERN.match(model_id):
            raise model_not_found(model_id)
        row = conn.execute(_MODEL_BY_ID, {"model_id": model_id}).first()
        if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
            raise model_not_found(model_id)
        return row


def _check_run_id(run_id: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidParameter(f"Invalid run id {run_id!r}.")


def _require_active_experiment(experiment_id: str, stage: str) -> None:
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameter(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {stage}."
        )
