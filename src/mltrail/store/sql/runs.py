"""Runs in the SQL store: create, read, update, delete/restore, batches of params, metrics
and tags, dataset inputs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from mltrail.entities import (
    DatasetInput,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.points import PointRow
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql.common import RUN_NAME_TAG, has_upsert, new_run_id, now_ms
from mltrail.store.sql.engine import driver_transaction, transaction
from mltrail.store.sql.logged_models import model_links
from mltrail.store.sql.rows import RUN_COLUMNS, load_runs, run_info
from mltrail.store.sql.run_writes import (
    DELETE_TAG,
    END_RUN,
    INSERT_NEW_PARAM,
    INSERT_PARAM,
    INSERT_RUN,
    INSERT_TAG,
    PARAMS_OF_RUN,
    RENAME_RUN,
    RUN_ROW,
    UPSERT_TAG,
    checked_params_tags,
    new_run_tags,
)
from mltrail.store.sql.schema import (
    datasets,
    run_inputs,
    runs,
)
from mltrail.store.sql.schema import tags as tag_table
from mltrail.utils import validation as v

# Built once: every read looks its run up, and building the query cost more than running it.
_RUN_BY_ID = sa.select(*RUN_COLUMNS).where(runs.c.run_uuid == sa.bindparam("run_id"))

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


class RunMethods:
    """The run half of ``SqlStore`` (needs ``engine`` and ``_active_experiment_location``)."""

    # Provided by the experiment half (ExperimentMethods); declared, not defined, here.
    _active_experiment_location: Callable[[Any, str], tuple[int, str]]

    engine: Any

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        tag_map = new_run_tags(tags, run_name)
        name = tag_map[RUN_NAME_TAG]
        user_id = user_id or ""
        run_id = new_run_id()
        start_time = start_time if start_time is not None else now_ms()
        with driver_transaction(self.engine) as conn:
            exp_id, location = self._active_experiment_location(conn, experiment_id)
            artifact_uri = f"{location.rstrip('/')}/{run_id}/artifacts"
            INSERT_RUN.execute(conn, (run_id, name, exp_id, user_id, start_time, artifact_uri))
            INSERT_TAG.executemany(conn, [(run_id, k, val) for k, val in tag_map.items()])
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(exp_id),
            run_name=name,
            user_id=user_id,
            status="RUNNING",
            start_time=start_time,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=artifact_uri,
        )
        return Run(info, RunData(tags=tag_map))

    def _run_row(self, conn: Any, run_id: str) -> Any:
        if not isinstance(run_id, str) or not run_id:
            raise InvalidParameter(f"Invalid run id {run_id!r}.")
        row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
        if row is None:
            raise NotFound(f"Run with id={run_id} not found.")
        return row

    def _active_run(self, conn: Any, run_id: str) -> RunRow:
        """The row of a run that takes writes (inside the writing transaction)."""
        if not isinstance(run_id, str) or not run_id:
            raise InvalidParameter(f"Invalid run id {run_id!r}.")
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

    def get_run(self, run_id: str) -> Run:
        with self.engine.connect() as conn:
            run = load_runs(conn, [self._run_row(conn, run_id)])[0]
            run.outputs, run.inputs.model_inputs = model_links(conn, run_id)
        return run

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = RunStatus.normalize(status)
        if end_time is not None:
            values["end_time"] = v.validate_timestamp(end_time)
        if run_name:
            values["name"] = run_name
        with transaction(self.engine, write=True) as conn:
            self._active_run(conn, run_id)
            if values:
                conn.execute(runs.update().where(runs.c.run_uuid == run_id).values(values))
            if run_name:
                self._upsert_tags(conn, run_id, {RUN_NAME_TAG: run_name})
            return run_info(self._run_row(conn, run_id))

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with transaction(self.engine, write=True) as conn:
            self._run_row(conn, run_id)
            conn.execute(
                runs.update()
                .where(runs.c.run_uuid == run_id)
                .values(
                    lifecycle_stage=stage,
                    deleted_time=now_ms() if stage == LifecycleStage.DELETED else None,
                )
            )

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        v.validate_batch_size(len(metrics), len(params), len(tags))
        self.write_batch(run_id, metrics, params, tags)

    def write_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """``log_batch`` without the per-request size limits."""
        points = metric_io.metric_point_rows(v.checked_metrics(metrics))
        param_map, tag_map = checked_params_tags(params, tags)
        with self._writing(points) as conn:
            self._active_run(conn, run_id)
            self._write_checked(conn, run_id, points, param_map, tag_map)

    def write_points(
        self,
        run_id: str,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """A batch from the client's buffer: points as (key, value, timestamp, step) tuples
        the client has already checked; params and tags are checked again (cheap)."""
        param_map, tag_map = checked_params_tags(params, tags)
        with self._writing(points) as conn:
            self._active_run(conn, run_id)
            self._write_checked(conn, run_id, points, param_map, tag_map)

    def finish_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> RunInfo:
        """The last writes of a run (checked points, as ``write_points`` takes them) and its
        end, in one transaction (what ``end_run`` does)."""
        param_map, tag_map = checked_params_tags(params, tags)
        status = RunStatus.normalize(status)
        v.validate_timestamp(end_time)
        with self._writing(points) as conn:
            row = self._active_run(conn, run_id)
            self._write_checked(conn, run_id, points, param_map, tag_map)
            END_RUN.execute(conn, (status, end_time, run_id))
        info = run_info(row)
        info.status, info.end_time = status, end_time
        if RUN_NAME_TAG in tag_map:
            info.run_name = tag_map[RUN_NAME_TAG]
        return info

    def _writing(self, points: Sequence[PointRow]) -> Any:
        """The write transaction of a batch: on the driver, unless it has metric points and
        the database needs SQLAlchemy for them (see ``metrics.writes_on_driver``)."""
        if points and not metric_io.writes_on_driver(self.engine.dialect):
            return transaction(self.engine, write=True)
        return driver_transaction(self.engine)

    def _write_checked(
        self,
        conn: Any,
        run_id: str,
        points: Sequence[PointRow],
        param_map: dict[str, str],
        tag_map: dict[str, str],
    ) -> None:
        if param_map:
            self._insert_params(conn, run_id, param_map)
        if points:
            metric_io.write_metrics(conn, run_id, points)
        if tag_map:
            self._upsert_tags(conn, run_id, tag_map)
            if RUN_NAME_TAG in tag_map:
                RENAME_RUN.execute(conn, (tag_map[RUN_NAME_TAG], run_id))

    def _insert_params(self, conn: Any, run_id: str, param_map: dict[str, str]) -> None:
        """Insert new params; a key logged before must keep its value (MLflow's rule)."""
        rows = [(run_id, k, val) for k, val in param_map.items()]
        if has_upsert(conn.dialect):
            # One pass: insert what is new; only when some key was there already, compare.
            if INSERT_NEW_PARAM.executemany(conn, rows) < len(rows):
                _refuse_changed(run_id, param_map, _logged_params(conn, run_id, param_map))
            return
        existing = _logged_params(conn, run_id, param_map)
        _refuse_changed(run_id, param_map, existing)
        new_rows = [row for row in rows if row[1] not in existing]
        if new_rows:
            INSERT_PARAM.executemany(conn, new_rows)

    def _upsert_tags(self, conn: Any, run_id: str, tag_map: dict[str, str]) -> None:
        rows = [(run_id, k, val) for k, val in tag_map.items()]
        if has_upsert(conn.dialect):
            UPSERT_TAG.executemany(conn, rows)
        else:
            DELETE_TAG.executemany(conn, [row[:2] for row in rows])
            INSERT_TAG.executemany(conn, rows)

    def delete_tag(self, run_id: str, key: str) -> None:
        with transaction(self.engine, write=True) as conn:
            self._active_run(conn, run_id)
            deleted = conn.execute(
                tag_table.delete().where(tag_table.c.run_uuid == run_id, tag_table.c.key == key)
            ).rowcount
            if not deleted:
                raise NotFound(f"No tag with name: {key} in run with id {run_id}.")

    def log_inputs(self, run_id: str, datasets_in: Sequence[DatasetInput] = ()) -> None:
        with transaction(self.engine, write=True) as conn:
            run = self._active_run(conn, run_id)
            for item in datasets_in:
                ds = item.dataset
                for field, value in (
                    ("name", ds.name),
                    ("digest", ds.digest),
                    ("source_type", ds.source_type),
                    ("source", ds.source),
                ):
                    if not value:
                        raise InvalidParameter(f"A dataset input needs a non-empty '{field}'.")
                found = conn.execute(
                    sa.select(datasets.c.dataset_uuid).where(
                        datasets.c.experiment_id == run.experiment_id,
                        datasets.c.name == ds.name,
                        datasets.c.digest == ds.digest,
                    )
                ).scalar()
                if found is None:
                    found = uuid.uuid4().hex
                    conn.execute(
                        datasets.insert().values(
                            dataset_uuid=found,
                            experiment_id=run.experiment_id,
                            name=ds.name,
                            digest=ds.digest,
                            source_type=ds.source_type,
                            source=ds.source,
                            schema=ds.schema,
                            profile=ds.profile,
                        )
                    )
                logged = conn.execute(
                    sa.select(run_inputs.c.run_uuid).where(
                        run_inputs.c.run_uuid == run_id, run_inputs.c.dataset_uuid == found
                    )
                ).first()
                if logged is not None:
                    continue  # as MLflow: the dataset's first input (and its tags) stays
                tag_json = json.dumps({t.key: t.value for t in item.tags}, sort_keys=True)
                conn.execute(
                    run_inputs.insert().values(run_uuid=run_id, dataset_uuid=found, tags=tag_json)
                )


def _logged_params(conn: Any, run_id: str, param_map: dict[str, str]) -> dict[str, str]:
    """The values already logged for some of these param keys."""
    logged = PARAMS_OF_RUN.fetchall(conn, (run_id,))
    return {key: value for key, value in logged if key in param_map}


def _refuse_changed(run_id: str, param_map: dict[str, str], existing: dict[str, str]) -> None:
    changed = [
        (k, existing[k], val)
        for k, val in param_map.items()
        if k in existing and existing[k] != val
    ]
    if not changed:
        return
    if len(changed) == 1:
        key, old, new = changed[0]
        raise InvalidParameter(
            "Changing param values is not allowed. Param with key='"
            f"{key}' was already logged with value='{old}' for run ID='{run_id}'. "
            f"Attempted logging new value '{new}'."
        )
    detail = [{"key": k, "old_value": o, "new_value": n} for k, o, n in changed]
    raise InvalidParameter(
        "Changing param values is not allowed. Params were already logged="
        f"'{detail}' for run ID='{run_id}'."
    )
