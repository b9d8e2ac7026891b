"""Permanent deletion of what users deleted: finding it, and removing its rows for good.

Deleting a run, an experiment or a logged model only marks it ``deleted`` (it can be restored).
``mltrail gc`` finds what has been deleted long enough and removes it: the artifacts first
(``mltrail.store.gc``), then the rows here, each item in its own transaction. The foreign
keys cascade: a run takes its params, tags, metric series, inputs and model links with it;
an experiment takes its runs, logged models and datasets; then its name is free again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from mltrail.exceptions import InvalidParameter
from mltrail.store.sql.engine import transaction
from mltrail.store.sql.schema import experiments, logged_models, runs

DELETED = "deleted"


@dataclass(frozen=True)
class DeletedRun:
    run_id: str
    experiment_id: str
    artifact_uri: str | None


@dataclass(frozen=True)
class DeletedModel:
    model_id: str
    experiment_id: str
    artifact_location: str | None


@dataclass(frozen=True)
class DeletedExperiment:
    experiment_id: str
    name: str
    artifact_location: str | None


@dataclass
class Garbage:
    """What one gc pass removes. Runs and models of a removed experiment are listed too."""

    runs: list[DeletedRun] = field(default_factory=list)
    models: list[DeletedModel] = field(default_factory=list)
    experiments: list[DeletedExperiment] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.runs or self.models or self.experiments)


def find_garbage(
    engine: Any,
    deleted_before_ms: int | None = None,
    run_ids: Sequence[str] = (),
    experiment_ids: Sequence[str] = (),
    model_ids: Sequence[str] = (),
) -> Garbage:
    """Deleted runs, logged models and experiments, deleted before ``deleted_before_ms``
    (``None``: any time). Given ids narrow the search, and each must name a deleted item."""
    chosen = bool(run_ids or experiment_ids or model_ids)
    found = Garbage()
    with transaction(engine) as conn:
        exp_query = sa.select(
            experiments.c.experiment_id, experiments.c.name, experiments.c.artifact_location
        ).where(experiments.c.lifecycle_stage == DELETED)
        if deleted_before_ms is not None:
            exp_query = exp_query.where(experiments.c.last_update_time < deleted_before_ms)
        if chosen:
            exp_query = exp_query.where(
                experiments.c.experiment_id.in_([_exp_id(e) for e in experiment_ids])
            )
        for row in conn.execute(exp_query.order_by(experiments.c.experiment_id)):
            found.experiments.append(
                DeletedExperiment(str(row.experiment_id), row.name, row.artifact_location)
            )
        _require_all("experiment", experiment_ids, [e.experiment_id for e in found.experiments])
        gone = [int(e.experiment_id) for e in found.experiments]

        run_query = sa.select(runs.c.run_uuid, runs.c.experiment_id, runs.c.artifact_uri)
        mine = runs.c.lifecycle_stage == DELETED
        if deleted_before_ms is not None:
            mine = sa.and_(mine, runs.c.deleted_time < deleted_before_ms)
        if chosen:
            mine = sa.and_(mine, runs.c.run_uuid.in_(list(run_ids)))
        for row in conn.execute(
            run_query.where(sa.or_(mine, runs.c.experiment_id.in_(gone))).order_by(runs.c.run_uuid)
        ):
            found.runs.append(DeletedRun(row.run_uuid, str(row.experiment_id), row.artifact_uri))
        _require_all("run", run_ids, [r.run_id for r in found.runs])

        model_query = sa.select(
            logged_models.c.model_id,
            logged_models.c.experiment_id,
            logged_models.c.artifact_location,
        )
        mine = logged_models.c.lifecycle_stage == DELETED
        if deleted_before_ms is not None:
            mine = sa.and_(mine, logged_models.c.last_updated_timestamp_ms < deleted_before_ms)
        if chosen:
            mine = sa.and_(mine, logged_models.c.model_id.in_(list(model_ids)))
        for row in conn.execute(
            model_query.where(sa.or_(mine, logged_models.c.experiment_id.in_(gone))).order_by(
                logged_models.c.model_id
            )
        ):
            found.models.append(
                DeletedModel(row.model_id, str(row.experiment_id), row.artifact_location)
            )
        _require_all("logged model", model_ids, [m.model_id for m in found.models])
    return found


def _exp_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidParameter(f"Invalid experiment id {text!r}: ids are numbers.") from None


def _require_all(what: str, wanted: Sequence[str], found: Sequence[str]) -> None:
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise InvalidParameter(
            f"Not removed: {what} {', '.join(missing)} is not deleted (or not deleted long "
            f"enough, or does not exist). Delete it first; gc removes only deleted {what}s."
        )


# The server's lease book (mltrail.store.sql.server_tables) may hold a row for the run.
_run_leases = sa.table("mltrail_run_leases", sa.column("run_uuid"))


def purge_run(engine: Any, run_id: str) -> None:
    with transaction(engine, write=True) as conn:
        conn.execute(runs.delete().where(runs.c.run_uuid == run_id))
        if sa.inspect(conn).has_table(_run_leases.name):
            conn.execute(_run_leases.delete().where(_run_leases.c.run_uuid == run_id))


def purge_model(engine: Any, model_id: str) -> None:
    with transaction(engine, write=True) as conn:
        conn.execute(logged_models.delete().where(logged_models.c.model_id == model_id))


def purge_experiment(engine: Any, experiment_id: str) -> None:
    """Remove a deleted experiment whose runs and models are already gone (cascades anyway)."""
    with transaction(engine, write=True) as conn:
        conn.execute(
            experiments.delete().where(
                experiments.c.experiment_id == int(experiment_id),
                experiments.c.lifecycle_stage == DELETED,
            )
        )
