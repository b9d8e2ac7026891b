"""Experiments in the SQL store: create, read, rename, delete/restore, tags, search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    Experiment,
    ExperimentTag,
    LifecycleStage,
    PagedList,
    ViewType,
)
from mltrail.exceptions import AlreadyExists, InvalidParameter, NotFound
from mltrail.store.base import (
    SEARCH_MAX_RESULTS_DEFAULT,
)
from mltrail.store.sql.common import check_max_results, now_ms
from mltrail.store.sql.engine import transaction
from mltrail.store.sql.rows import load_experiments
from mltrail.store.sql.run_writes import STAGE_AND_LOCATION
from mltrail.store.sql.schema import (
    experiment_tags,
    experiments,
    id_counters,
    runs,
)
from mltrail.utils import validation as v


class ExperimentMethods:
    """The experiment half of ``SqlStore`` (needs ``engine`` and ``default_artifact_root``)."""

    engine: Any
    default_artifact_root: str

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        v.validate_experiment_name(name)
        if artifact_location is not None and len(artifact_location) > 2048:
            raise InvalidParameter("The artifact location exceeds 2048 characters.")
        if artifact_location and artifact_location.startswith("runs:"):
            raise InvalidParameter("An experiment's artifact location cannot be a runs:/ URI.")
        for tag in tags:
            v.validate_key(tag.key, "experiment tag key")
        now = now_ms()
        with transaction(self.engine, write=True) as conn:
            if conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.name == name)
            ).first():
                raise AlreadyExists(f"Experiment '{name}' already exists.")
            new_id = conn.execute(
                experiments.insert().values(
                    **_next_id(conn),
                    name=name,
                    artifact_location=artifact_location,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # an INSERT always has a key
            if not artifact_location:
                conn.execute(
                    experiments.update()
                    .where(experiments.c.experiment_id == new_id)
                    .values(artifact_location=f"{self.default_artifact_root}/{new_id}")
                )
            if tags:
                conn.execute(
                    experiment_tags.insert(),
                    [{"experiment_id": new_id, "key": t.key, "value": t.value} for t in tags],
                )
        return str(new_id)

    def _experiment_row(self, conn: Any, experiment_id: str) -> Any:
        exp_id = int(v.validate_experiment_id(experiment_id))
        row = conn.execute(
            sa.select(experiments).where(experiments.c.experiment_id == exp_id)
        ).first()
        if row is None:
            raise NotFound(f"No experiment with id={experiment_id} exists.")
        return row

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self.engine.connect() as conn:
            return load_experiments(conn, [self._experiment_row(conn, experiment_id)])[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(experiments).where(experiments.c.name == name)).first()
            return load_experiments(conn, [row])[0] if row else None

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail import search
        from mltrail.search import paging
        from mltrail.store.sql import search as search_sql

        check_max_results(max_results)
        stages = LifecycleStage.stages_for(ViewType.normalize(view_type))
        offset = paging.decode_page_token(page_token)
        clause = search_sql.experiment_filter_clause(search.parse_experiment_filter(filter_string))
        orders = search_sql.experiment_order_clauses(search.parse_experiment_order_by(order_by))
        query = sa.select(experiments).where(experiments.c.lifecycle_stage.in_(stages))
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*orders).offset(offset).limit(max_results + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            found = load_experiments(conn, rows[:max_results])
        token = paging.encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(found, token)

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        now = now_ms()
        with transaction(self.engine, write=True) as conn:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage == stage:
                # As MLflow: deleting looks among active experiments, restoring among deleted.
                wanted = "active" if stage == LifecycleStage.DELETED else "deleted"
                raise NotFound(f"No {wanted} experiment with id {experiment_id}.")
            conn.execute(
                experiments.update()
                .where(experiments.c.experiment_id == row.experiment_id)
                .values(lifecycle_stage=stage, last_update_time=now)
            )
            conn.execute(
                runs.update()
                .where(runs.c.experiment_id == row.experiment_id)
                .values(
                    lifecycle_stage=stage,
                    deleted_time=now if stage == LifecycleStage.DELETED else None,
                )
            )

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        v.validate_experiment_name(new_name)
        with transaction(self.engine, write=True) as conn:
            row = self._active_experiment(conn, experiment_id)
            clash = conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.name == new_name)
            ).first()
            if clash and clash.experiment_id != row.experiment_id:
                raise AlreadyExists(f"Experiment '{new_name}' already exists.")
            conn.execute(
                experiments.update()
                .where(experiments.c.experiment_id == row.experiment_id)
                .values(name=new_name, last_update_time=now_ms())
            )

    def _active_experiment(self, conn: Any, experiment_id: str) -> Any:
        row = self._experiment_row(conn, experiment_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row

    def _active_experiment_location(self, conn: Any, experiment_id: str) -> tuple[int, str]:
        """The id and artifact location of an experiment that can take new runs; read in the
        caller's transaction, so a deleted experiment refuses runs however recently deleted."""
        exp_id = int(v.validate_experiment_id(experiment_id))
        found = STAGE_AND_LOCATION.fetchall(conn, (exp_id,))
        if not found:
            raise NotFound(f"No experiment with id={experiment_id} exists.")
        stage, location = found[0]
        if stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {stage}."
            )
        return exp_id, location or ""

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        v.validate_key(tag.key, "experiment tag key")
        if len(tag.value or "") > v.MAX_EXPERIMENT_TAG_VAL_LENGTH:
            raise InvalidParameter(
                f"The value of experiment tag '{tag.key}' exceeds the maximum length of "
                f"{v.MAX_EXPERIMENT_TAG_VAL_LENGTH} characters."
            )
        with transaction(self.engine, write=True) as conn:
            row = self._active_experiment(conn, experiment_id)
            where = (experiment_tags.c.experiment_id == row.experiment_id) & (
                experiment_tags.c.key == tag.key
            )
            conn.execute(experiment_tags.delete().where(where))
            conn.execute(
                experiment_tags.insert().values(
                    experiment_id=row.experiment_id, key=tag.key, value=tag.value
                )
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with transaction(self.engine, write=True) as conn:
            row = self._active_experiment(conn, experiment_id)
            deleted = conn.execute(
                experiment_tags.delete().where(
                    experiment_tags.c.experiment_id == row.experiment_id,
                    experiment_tags.c.key == key,
                )
            ).rowcount
            if not deleted:
                raise NotFound(f"No tag with name: {key} in experiment with id {experiment_id}.")

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        query = (
            sa.select(runs.c.experiment_id, sa.func.count(), sa.func.max(runs.c.start_time))
            .where(
                runs.c.experiment_id.in_(ids),
                runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
            )
            .group_by(runs.c.experiment_id)
        )
        with self.engine.connect() as conn:
            found = {str(e): (n, last) for e, n, last in conn.execute(query)}
        return {str(i): found.get(str(i), (0, None)) for i in ids}


def _next_id(conn: Any) -> dict[str, int]:
    """On SQLite, the new experiment's id: above every id ever handed out (``id_counters``),
    not only above the ids still there. Elsewhere the database's sequence decides."""
    if conn.dialect.name != "sqlite":
        return {}
    top = conn.execute(sa.select(sa.func.max(experiments.c.experiment_id))).scalar() or 0
    floor = conn.execute(
        sa.select(id_counters.c.value).where(id_counters.c.name == "experiments")
    ).scalar()
    new_id = max(int(top), int(floor or 0)) + 1
    if floor is None:
        conn.execute(id_counters.insert().values(name="experiments", value=new_id))
    else:
        conn.execute(
            id_counters.update().where(id_counters.c.name == "experiments").values(value=new_id)
        )
    return {"experiment_id": new_id}
