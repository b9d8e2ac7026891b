"""Runs in the SQL store: create, read, update, delete/restore, batches of params, metrics
and tags, dataset inputs, search."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    DatasetInput,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.base import SEARCH_MAX_RESULTS_DEFAULT
from mltrail.store.points import PointRow
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql.common import RUN_NAME_TAG, check_max_results, new_run_id, now_ms
from mltrail.store.sql.context import AnyConnection, StoreContext
from mltrail.store.sql.logged_model_rows import model_links
from mltrail.store.sql.rows import load_runs, run_info
from mltrail.store.sql.run_writes import (
    END_RUN,
    INSERT_RUN,
    RENAME_RUN,
    checked_params_tags,
    insert_params,
    insert_tags,
    new_run_tags,
    upsert_tags,
)
from mltrail.store.sql.schema import (
    datasets,
    run_inputs,
    runs,
)
from mltrail.store.sql.schema import tags as tag_table
from mltrail.utils import validation as v


class Runs:
    """The runs of a ``SqlStore``: their rows, params, tags, metric points and inputs."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

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
        with self.ctx.writing_on_driver() as conn:
            exp_id, location = self.ctx.active_experiment_location(conn, experiment_id)
            artifact_uri = f"{location.rstrip('/')}/{run_id}/artifacts"
            INSERT_RUN.execute(conn, (run_id, name, exp_id, user_id, start_time, artifact_uri))
            insert_tags(conn, run_id, tag_map)
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

    def get_run(self, run_id: str) -> Run:
        with self.ctx.reading() as conn:
            run = load_runs(conn, [self.ctx.run_row(conn, run_id)])[0]
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
        with self.ctx.writing() as conn:
            self.ctx.active_run(conn, run_id)
            if values:
                conn.execute(runs.update().where(runs.c.run_uuid == run_id).values(values))
            if run_name:
                upsert_tags(conn, run_id, {RUN_NAME_TAG: run_name})
            return run_info(self.ctx.run_row(conn, run_id))

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self.ctx.writing() as conn:
            self.ctx.run_row(conn, run_id)
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
        self.write_points(run_id, points, params, tags)

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
            self.ctx.active_run(conn, run_id)
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
            row = self.ctx.active_run(conn, run_id)
            self._write_checked(conn, run_id, points, param_map, tag_map)
            END_RUN.execute(conn, (status, end_time, run_id))
        info = run_info(row)
        info.status, info.end_time = status, end_time
        if RUN_NAME_TAG in tag_map:
            info.run_name = tag_map[RUN_NAME_TAG]
        return info

    def _writing(self, points: Sequence[PointRow]) -> AbstractContextManager[AnyConnection]:
        """The write transaction of a batch: on the driver, unless it has metric points and
        the database needs SQLAlchemy for them (see ``metrics.writes_on_driver``)."""
        if points and not metric_io.writes_on_driver(self.ctx.engine.dialect):
            return self.ctx.writing()
        return self.ctx.writing_on_driver()

    def _write_checked(
        self,
        conn: AnyConnection,
        run_id: str,
        points: Sequence[PointRow],
        param_map: dict[str, str],
        tag_map: dict[str, str],
    ) -> None:
        if param_map:
            insert_params(conn, run_id, param_map)
        if points:
            metric_io.write_metrics(conn, run_id, points)
        if tag_map:
            upsert_tags(conn, run_id, tag_map)
            if RUN_NAME_TAG in tag_map:
                RENAME_RUN.execute(conn, (tag_map[RUN_NAME_TAG], run_id))

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.ctx.writing() as conn:
            self.ctx.active_run(conn, run_id)
            deleted = conn.execute(
                tag_table.delete().where(tag_table.c.run_uuid == run_id, tag_table.c.key == key)
            ).rowcount
            if not deleted:
                raise NotFound(f"No tag with name: {key} in run with id {run_id}.")

    def log_inputs(self, run_id: str, datasets_in: Sequence[DatasetInput] = ()) -> None:
        with self.ctx.writing() as conn:
            run = self.ctx.active_run(conn, run_id)
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

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import paging
        from mltrail.store.sql.search.plan import run_search_plan

        check_max_results(max_results)
        exp_ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        view = ViewType.normalize(run_view_type)
        stages = None if view == ViewType.ALL else LifecycleStage.stages_for(view)
        # Parsed first (in the plan): a bad filter fails before any I/O.
        plan = run_search_plan(exp_ids, stages, filter_string, order_by)
        offset = paging.decode_page_token(page_token)
        if not exp_ids:
            return PagedList([])
        with self.ctx.reading() as conn:
            rows = plan.rows(conn, offset, max_results + 1)
            found = load_runs(conn, rows[:max_results])
        return PagedList(found, paging.next_page_token(offset, max_results, len(rows)))
