"""Logged models in the SQL store (MLflow 3's LoggedModel): create, read, finalize, delete,
search, tags and params; the models runs produce and use; metric points logged with a
``model_id``.

Three run calls touch models as well: ``SqlStore.log_inputs`` links the models a run used
(``check_models`` first, then ``link_inputs``) and ``SqlStore.log_batch`` files points that
carry a ``model_id`` under their model (``check_models``, then ``record_points``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from mltrail.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    PagedList,
)
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.search import paging
from mltrail.store.base import LOGGED_MODELS_MAX_RESULTS_DEFAULT
from mltrail.store.sql import logged_model_search as search
from mltrail.store.sql.common import check_max_results, now_ms
from mltrail.store.sql.context import StoreContext
from mltrail.store.sql.logged_model_rows import (
    checked_model_type,
    checked_name,
    checked_params,
    checked_tags,
    insert_pairs,
    load_models,
    record_model_points,
    touch,
)
from mltrail.store.sql.schema import (
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_model_outputs,
    runs,
)
from mltrail.utils import validation as v

lm = logged_models


class LoggedModels:
    """The logged models of a ``SqlStore``, and their links to runs."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    # -- writing ------------------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        name = checked_name(name)
        model_type = checked_model_type(model_type)
        if source_run_id:
            v.validate_run_id(source_run_id)
        tag_map = checked_tags(tags)
        param_map = checked_params(params)
        v.validate_experiment_id(experiment_id)  # before any I/O
        model_id = "m-" + uuid.uuid4().hex
        now = now_ms()
        with self.ctx.writing() as conn:
            exp_id, location = self.ctx.active_experiment_location(conn, experiment_id)
            if source_run_id:
                found = conn.execute(
                    sa.select(runs.c.run_uuid).where(runs.c.run_uuid == source_run_id)
                ).first()
                if found is None:
                    raise NotFound(f"Run with id={source_run_id} not found.")
            artifact_location = f"{location.rstrip('/')}/models/{model_id}/artifacts"
            conn.execute(
                lm.insert().values(
                    model_id=model_id,
                    experiment_id=exp_id,
                    name=name,
                    artifact_location=artifact_location,
                    creation_timestamp_ms=now,
                    last_updated_timestamp_ms=now,
                    status=LoggedModelStatus.PENDING.wire_name,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    model_type=model_type,
                    source_run_id=source_run_id or None,
                )
            )
            insert_pairs(conn, logged_model_tags, model_id, tag_map)
            insert_pairs(conn, logged_model_params, model_id, param_map)
        return LoggedModel(
            model_id=model_id,
            experiment_id=str(exp_id),
            name=name,
            artifact_location=artifact_location,
            creation_timestamp=now,
            last_updated_timestamp=now,
            status=LoggedModelStatus.PENDING,
            model_type=model_type,
            source_run_id=source_run_id or None,
            tags=tag_map,
            params=param_map,
        )

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        found = LoggedModelStatus.normalize(status)
        with self.ctx.writing() as conn:
            self.ctx.model_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(status=found.wire_name, last_updated_timestamp_ms=now_ms())
            )
            return load_models(conn, [self.ctx.model_row(conn, model_id)])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with self.ctx.writing() as conn:
            self.ctx.model_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED, last_updated_timestamp_ms=now_ms())
            )

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        tag_map = checked_tags(tags)
        with self.ctx.writing() as conn:
            self.ctx.model_row(conn, model_id)
            if not tag_map:
                return
            conn.execute(
                logged_model_tags.delete().where(
                    logged_model_tags.c.model_id == model_id,
                    logged_model_tags.c.key.in_(list(tag_map)),
                )
            )
            insert_pairs(conn, logged_model_tags, model_id, tag_map)
            touch(conn, model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self.ctx.writing() as conn:
            self.ctx.model_row(conn, model_id)
            deleted = conn.execute(
                logged_model_tags.delete().where(
                    logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise NotFound(f"No tag with key '{key}' on logged model '{model_id}'.")
            touch(conn, model_id)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        param_map = checked_params(params)
        with self.ctx.writing() as conn:
            self.ctx.model_row(conn, model_id)
            if not param_map:
                return
            pm = logged_model_params
            existing = dict(
                conn.execute(
                    sa.select(pm.c.key, pm.c.value).where(
                        pm.c.model_id == model_id, pm.c.key.in_(list(param_map))
                    )
                ).all()
            )
            changed = [k for k, val in param_map.items() if k in existing and existing[k] != val]
            if changed:
                key = changed[0]
                raise InvalidParameter(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{existing[key]}' for logged model '{model_id}'. "
                    f"Attempted logging new value '{param_map[key]}'."
                )
            new = {k: val for k, val in param_map.items() if k not in existing}
            insert_pairs(conn, pm, model_id, new)
            if new:
                touch(conn, model_id)

    # -- reading ------------------------------------------------------------------------------
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        with self.ctx.reading() as conn:
            row = self.ctx.model_row(conn, model_id, allow_deleted=allow_deleted)
            return load_models(conn, [row])[0]

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[dict[str, str | None]] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[dict[str, object] | str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        if isinstance(experiment_ids, str) or not experiment_ids:
            raise InvalidParameter(
                "Give the experiments to search in experiment_ids (a list of ids, e.g. ['1'])."
            )
        exp_ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        check_max_results(max_results)
        # Everything is read and checked before any I/O: a bad filter never costs a query.
        node = search.parse_filter(filter_string)
        refs = search.parse_datasets(datasets)
        orders = search.parse_order_by(order_by)
        fingerprint = search.search_fingerprint(
            [str(e) for e in exp_ids], filter_string, refs, orders
        )
        offset = paging.decode_page_token(page_token, fingerprint)
        query = sa.select(lm).where(
            lm.c.experiment_id.in_(exp_ids), lm.c.lifecycle_stage == LifecycleStage.ACTIVE
        )
        clause = search.filter_clause(node, refs)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*search.order_clauses(orders, refs))
        query = query.offset(offset).limit(max_results + 1)
        with self.ctx.reading() as conn:
            rows = conn.execute(query).all()
            found = load_models(conn, rows[:max_results])
        return PagedList(found, paging.next_page_token(offset, max_results, len(rows), fingerprint))

    # -- runs and their models ----------------------------------------------------------------
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        wanted = {(m.model_id, v.validate_step(m.step or 0)) for m in models}
        with self.ctx.writing() as conn:
            self.ctx.active_run(conn, run_id)
            for model_id in sorted({mid for mid, _ in wanted}):
                self.ctx.model_row(conn, model_id)
            out = run_model_outputs
            have = {
                (mid, step)
                for mid, step in conn.execute(
                    sa.select(out.c.model_id, out.c.step).where(out.c.run_uuid == run_id)
                )
            }
            rows = [
                {"run_uuid": run_id, "model_id": mid, "step": step}
                for mid, step in sorted(wanted - have)
            ]
            if rows:
                conn.execute(out.insert(), rows)

    def check_models(self, model_ids: Sequence[str]) -> None:
        """Refuse unknown (or deleted) models, before a run call writes anything."""
        if not model_ids:
            return
        with self.ctx.reading() as conn:
            for model_id in sorted(set(model_ids)):
                self.ctx.model_row(conn, model_id)

    def link_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        """Record the models a run used (each once)."""
        wanted = {m.model_id for m in models}
        with self.ctx.writing() as conn:
            self.ctx.active_run(conn, run_id)
            for model_id in sorted(wanted):
                self.ctx.model_row(conn, model_id)
            have = set(
                conn.execute(
                    sa.select(run_model_inputs.c.model_id).where(
                        run_model_inputs.c.run_uuid == run_id
                    )
                ).scalars()
            )
            rows = [{"run_uuid": run_id, "model_id": mid} for mid in sorted(wanted - have)]
            if rows:
                conn.execute(run_model_inputs.insert(), rows)

    def record_points(self, run_id: str, metrics: Sequence[Metric]) -> None:
        """File points the run took under the models they name (``Metric.model_id``)."""
        linked = [m for m in metrics if m.model_id]
        if linked:
            with self.ctx.writing() as conn:
                record_model_points(conn, run_id, linked)
