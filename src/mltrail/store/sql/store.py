"""``SqlStore``: the tracking store on SQLAlchemy Core (SQLite, PostgreSQL, MySQL)."""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.exceptions import AlreadyExists, InvalidParameter, NotFound, StoreUnavailable
from mltrail.store.base import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    TrackingStore,
    check_max_points,
)
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql import migrate
from mltrail.store.sql.engine import get_engine, transaction
from mltrail.store.sql.names import generate_run_name
from mltrail.store.sql.rows import RUN_COLUMNS, load_experiments, load_runs, run_info
from mltrail.store.sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    params,
    run_inputs,
    runs,
)
from mltrail.store.sql.schema import tags as tag_table
from mltrail.utils import validation as v

RUN_NAME_TAG = "mlflow.runName"
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"

# Built once: every write looks its run up, and building the query cost more than running it.
_RUN_BY_ID = sa.select(*RUN_COLUMNS).where(runs.c.run_uuid == sa.bindparam("run_id"))

# Engines whose database has been migrated in this process (weak: a disposed engine's id may
# be reused by a new engine for another database, which must be checked afresh).
_ready_engines: weakref.WeakSet[Any] = weakref.WeakSet()
_ready_lock = threading.Lock()


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlStore(TrackingStore):
    """Tracking data in one SQL database; artifacts under ``default_artifact_root``."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.db_uri = db_uri
        self.default_artifact_root = default_artifact_root.rstrip("/")
        self.engine = get_engine(db_uri)
        self._prepare()

    # -- set-up ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        if self.engine in _ready_engines:
            return
        with _ready_lock:
            if self.engine in _ready_engines:
                return
            try:
                migrate.upgrade(self.engine)
            except sa.exc.OperationalError as exc:
                raise StoreUnavailable(
                    f"The tracking database could not be used: {_first_line(exc)}"
                ) from None
            except Exception:
                # Another process may have migrated at the same moment; check once more.
                if migrate.current_revision(self.engine) != migrate.HEAD_REVISION:
                    raise
            self._ensure_default_experiment()
            _ready_engines.add(self.engine)

    def _ensure_default_experiment(self) -> None:
        with transaction(self.engine, write=True) as conn:
            found = conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.experiment_id == 0)
            ).first()
            if found is None:
                now = _now_ms()
                conn.execute(
                    experiments.insert().values(
                        experiment_id=0,
                        name=DEFAULT_EXPERIMENT_NAME,
                        artifact_location=f"{self.default_artifact_root}/0",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                )

    # -- experiments -------------------------------------------------------------------------
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
        now = _now_ms()
        with transaction(self.engine, write=True) as conn:
            if conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.name == name)
            ).first():
                raise AlreadyExists(f"Experiment '{name}' already exists.")
            new_id = conn.execute(
                experiments.insert().values(
                    name=name,
                    artifact_location=artifact_location,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
            ).inserted_primary_key[0]
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
        from mltrail.search import sql as search_sql

        _check_max_results(max_results)
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
        now = _now_ms()
        with transaction(self.engine, write=True) as conn:
            row = self._experiment_row(conn, experiment_id)
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
                .values(name=new_name, last_update_time=_now_ms())
            )

    def _active_experiment(self, conn: Any, experiment_id: str) -> Any:
        row = self._experiment_row(conn, experiment_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row

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

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        tag_map = {}
        for tag in tags:
            v.validate_key(tag.key, "tag key")
            tag_map[tag.key] = v.tag_value_str(tag.key, tag.value)
        tagged_name = tag_map.get(RUN_NAME_TAG)
        if run_name and tagged_name and run_name != tagged_name:
            raise InvalidParameter(
                f"Both 'run_name' argument and '{RUN_NAME_TAG}' tag are specified, but with "
                f"different values (run_name='{run_name}', {RUN_NAME_TAG}='{tagged_name}')."
            )
        name = run_name or tagged_name or generate_run_name()
        tag_map[RUN_NAME_TAG] = name
        run_id = uuid.uuid4().hex
        start_time = start_time if start_time is not None else _now_ms()
        with transaction(self.engine, write=True) as conn:
            exp = self._active_experiment(conn, experiment_id)
            artifact_uri = f"{(exp.artifact_location or '').rstrip('/')}/{run_id}/artifacts"
            conn.execute(
                runs.insert().values(
                    run_uuid=run_id,
                    name=name,
                    experiment_id=exp.experiment_id,
                    user_id=user_id or "",
                    status="RUNNING",
                    start_time=start_time,
                    end_time=None,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    artifact_uri=artifact_uri,
                )
            )
            conn.execute(
                tag_table.insert(),
                [{"run_uuid": run_id, "key": k, "value": val} for k, val in tag_map.items()],
            )
            info = RunInfo(
                run_id=run_id,
                experiment_id=str(exp.experiment_id),
                run_name=name,
                user_id=user_id or "",
                status="RUNNING",
                start_time=start_time,
                end_time=None,
                lifecycle_stage=LifecycleStage.ACTIVE,
                artifact_uri=artifact_uri,
            )
        from mltrail.entities import RunData

        return Run(info, RunData(tags=tag_map))

    def _run_row(self, conn: Any, run_id: str) -> Any:
        if not isinstance(run_id, str) or not run_id:
            raise InvalidParameter(f"Invalid run id {run_id!r}.")
        row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
        if row is None:
            raise NotFound(f"Run with id={run_id} not found.")
        return row

    def _active_run(self, conn: Any, run_id: str) -> Any:
        row = self._run_row(conn, run_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row

    def get_run(self, run_id: str) -> Run:
        with self.engine.connect() as conn:
            return load_runs(conn, [self._run_row(conn, run_id)])[0]

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
                    deleted_time=_now_ms() if stage == LifecycleStage.DELETED else None,
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
        """``log_batch`` without the per-request size limits (used by the client's buffer)."""
        points = [v.checked_metric(m) for m in metrics]
        param_map = {}
        v.validate_unique_param_keys([p.key for p in params])
        for p in params:
            v.validate_key(p.key, "param key")
            param_map[p.key] = v.param_value_str(p.key, p.value)
        tag_map = {}
        for t in tags:
            v.validate_key(t.key, "tag key")
            tag_map[t.key] = v.tag_value_str(t.key, t.value)
        with transaction(self.engine, write=True) as conn:
            self._active_run(conn, run_id)
            if param_map:
                self._insert_params(conn, run_id, param_map)
            if points:
                metric_io.write_metrics(conn, run_id, points)
            if tag_map:
                self._upsert_tags(conn, run_id, tag_map)
                if RUN_NAME_TAG in tag_map:
                    conn.execute(
                        runs.update()
                        .where(runs.c.run_uuid == run_id)
                        .values(name=tag_map[RUN_NAME_TAG])
                    )

    def _insert_params(self, conn: Any, run_id: str, param_map: dict[str, str]) -> None:
        existing = dict(
            conn.execute(
                sa.select(params.c.key, params.c.value).where(
                    params.c.run_uuid == run_id, params.c.key.in_(list(param_map))
                )
            ).all()
        )
        changed = [
            (k, existing[k], val)
            for k, val in param_map.items()
            if k in existing and existing[k] != val
        ]
        if changed:
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
        new_rows = [
            {"run_uuid": run_id, "key": k, "value": val}
            for k, val in param_map.items()
            if k not in existing
        ]
        if new_rows:
            conn.execute(params.insert(), new_rows)

    def _upsert_tags(self, conn: Any, run_id: str, tag_map: dict[str, str]) -> None:
        conn.execute(
            tag_table.delete().where(
                tag_table.c.run_uuid == run_id, tag_table.c.key.in_(list(tag_map))
            )
        )
        conn.execute(
            tag_table.insert(),
            [{"run_uuid": run_id, "key": k, "value": val} for k, val in tag_map.items()],
        )

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
                tag_json = json.dumps({t.key: t.value for t in item.tags}, sort_keys=True)
                conn.execute(
                    run_inputs.delete().where(
                        run_inputs.c.run_uuid == run_id, run_inputs.c.dataset_uuid == found
                    )
                )
                conn.execute(
                    run_inputs.insert().values(run_uuid=run_id, dataset_uuid=found, tags=tag_json)
                )

    # -- metric reads ------------------------------------------------------------------------
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import paging

        if max_results is not None and max_results <= 0:
            raise InvalidParameter(
                f"Invalid value {max_results} for parameter 'max_results': it must be positive."
            )
        offset = paging.decode_page_token(page_token)
        with self.engine.connect() as conn:
            self._run_row(conn, run_id)
            limit = None if max_results is None else max_results + 1
            points = metric_io.history(conn, run_id, metric_key, offset, limit)
        if max_results is not None and len(points) > max_results:
            return PagedList(points[:max_results], paging.encode_page_token(offset + max_results))
        return PagedList(points)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        if not run_ids or len(run_ids) > 100:
            raise InvalidParameter("Give between 1 and 100 run ids.")
        if not 1 <= max_results <= 2500:
            raise InvalidParameter("max_results must be between 1 and 2500.")
        if (start_step is None) != (end_step is None):
            raise InvalidParameter("Give both start_step and end_step, or neither.")
        if start_step is not None and end_step is not None and start_step > end_step:
            raise InvalidParameter("start_step must not be greater than end_step.")
        points: list[Metric] = []
        with self.engine.connect() as conn:
            for run_id in sorted(set(run_ids)):
                self._run_row(conn, run_id)
                points.extend(
                    metric_io.sampled_history(
                        conn, run_id, metric_key, max_results, start_step, end_step
                    )
                )
        return points

    def get_metric_history_downsampled(
        self,
        run_id: str,
        key: str,
        max_points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        from mltrail.store.sql.downsample import downsampled_history

        check_max_points(max_points)
        with self.engine.connect() as conn:
            self._run_row(conn, run_id)
            return downsampled_history(conn, run_id, key, max_points, start_step, end_step)

    # -- search ------------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail import search
        from mltrail.search import paging
        from mltrail.search import sql as search_sql

        _check_max_results(max_results)
        exp_ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        view = ViewType.normalize(run_view_type)
        # Parse first: a bad filter fails before any I/O.
        node = search.parse_run_filter(filter_string)
        terms = search.parse_run_order_by(order_by)
        offset = paging.decode_page_token(page_token)
        if not exp_ids:
            return PagedList([])
        query = sa.select(*RUN_COLUMNS).where(runs.c.experiment_id.in_(exp_ids))
        if view != ViewType.ALL:  # no stage test for ALL, so the index can still order
            query = query.where(runs.c.lifecycle_stage.in_(LifecycleStage.stages_for(view)))
        query = search_sql.apply_run_search(query, node, terms)
        query = query.offset(offset).limit(max_results + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            found = load_runs(conn, rows[:max_results])
        token = paging.encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(found, token)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_max_results(max_results: int) -> None:
    if not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results!r} for parameter 'max_results' supplied. It must be "
            "a positive integer."
        )
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {SEARCH_MAX_RESULTS_THRESHOLD}."
        )
