"""Logged models in the SQL store (MLflow 3's LoggedModel): create, read, finalize, delete,
search, tags and params; the models runs produce and use; metric points logged with a
``model_id``.

``LoggedModelMethods`` comes first among ``SqlStore``'s bases: besides its own methods it
extends three run methods (``get_run`` adds the run's model inputs and outputs, ``log_inputs``
takes models, ``log_batch`` also files points that carry a ``model_id`` under their model) and
hands the rest of each call to the run half unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    DatasetInput,
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    RunOutputs,
    RunTag,
)
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.base import (
    LOGGED_MODELS_MAX_RESULTS_DEFAULT,
    MODEL_ID_PATTERN,
    model_not_found,
)
from mltrail.store.sql import logged_model_search as search
from mltrail.store.sql.common import check_max_results, now_ms
from mltrail.store.sql.engine import transaction
from mltrail.store.sql.names import generate_run_name
from mltrail.store.sql.schema import (
    experiments,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_model_outputs,
    runs,
)
from mltrail.utils import validation as v

MAX_MODEL_NAME_LENGTH = 500
_NAME_FORBIDDEN = "/:.%\"'"
_LOAD_CHUNK = 500  # ids per IN (...) when loading the tags, params and metrics of a page

lm = logged_models
_MODEL_ROW = sa.select(lm).where(lm.c.model_id == sa.bindparam("model_id"))


class LoggedModelMethods:
    """The logged-model part of ``SqlStore`` (needs ``engine``; its run methods hand on to the
    next base with ``super()``)."""

    engine: Any

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
        name = _checked_name(name)
        model_type = _checked_model_type(model_type)
        if source_run_id:
            v.validate_run_id(source_run_id)
        tag_map = _checked_tags(tags)
        param_map = _checked_params(params)
        exp_id = int(v.validate_experiment_id(experiment_id))
        model_id = "m-" + uuid.uuid4().hex
        now = now_ms()
        with transaction(self.engine, write=True) as conn:
            location = _active_experiment_location(conn, exp_id)
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
            _insert_pairs(conn, logged_model_tags, model_id, tag_map)
            _insert_pairs(conn, logged_model_params, model_id, param_map)
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
        with transaction(self.engine, write=True) as conn:
            _model_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(status=found.wire_name, last_updated_timestamp_ms=now_ms())
            )
            return _load_models(conn, [_model_row(conn, model_id)])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with transaction(self.engine, write=True) as conn:
            _model_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED, last_updated_timestamp_ms=now_ms())
            )

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        tag_map = _checked_tags(tags)
        with transaction(self.engine, write=True) as conn:
            _model_row(conn, model_id)
            if not tag_map:
                return
            conn.execute(
                logged_model_tags.delete().where(
                    logged_model_tags.c.model_id == model_id,
                    logged_model_tags.c.key.in_(list(tag_map)),
                )
            )
            _insert_pairs(conn, logged_model_tags, model_id, tag_map)
            _touch(conn, model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with transaction(self.engine, write=True) as conn:
            _model_row(conn, model_id)
            deleted = conn.execute(
                logged_model_tags.delete().where(
                    logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise NotFound(f"No tag with key '{key}' on logged model '{model_id}'.")
            _touch(conn, model_id)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        param_map = _checked_params(params)
        with transaction(self.engine, write=True) as conn:
            _model_row(conn, model_id)
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
            _insert_pairs(conn, pm, model_id, new)
            if new:
                _touch(conn, model_id)

    # -- reading ------------------------------------------------------------------------------
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        with self.engine.connect() as conn:
            row = _model_row(conn, model_id, allow_deleted=allow_deleted)
            return _load_models(conn, [row])[0]

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
        offset = search.decode_page_token(page_token, fingerprint)
        query = sa.select(lm).where(
            lm.c.experiment_id.in_(exp_ids), lm.c.lifecycle_stage == LifecycleStage.ACTIVE
        )
        clause = search.filter_clause(node, refs)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*search.order_clauses(orders, refs))
        query = query.offset(offset).limit(max_results + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            found = _load_models(conn, rows[:max_results])
        token = None
        if len(rows) > max_results:
            token = search.encode_page_token(offset + max_results, fingerprint)
        return PagedList(found, token)

    # -- runs and their models ----------------------------------------------------------------
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        wanted = {(m.model_id, v.validate_step(m.step or 0)) for m in models}
        with transaction(self.engine, write=True) as conn:
            _active_run(conn, run_id)
            for model_id in sorted({mid for mid, _ in wanted}):
                _model_row(conn, model_id)
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

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        if not models:
            super().log_inputs(run_id, datasets)  # type: ignore[misc]
            return
        wanted = {m.model_id for m in models}
        with self.engine.connect() as conn:  # unknown models fail before any dataset lands
            for model_id in sorted(wanted):
                _model_row(conn, model_id)
        if datasets:
            super().log_inputs(run_id, datasets)  # type: ignore[misc]
        with transaction(self.engine, write=True) as conn:
            _active_run(conn, run_id)
            for model_id in sorted(wanted):
                _model_row(conn, model_id)
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

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        linked = [m for m in metrics if m.model_id]
        if linked:  # an unknown model fails the batch before anything lands
            with self.engine.connect() as conn:
                for model_id in sorted({m.model_id for m in linked if m.model_id}):
                    _model_row(conn, model_id)
        super().log_batch(run_id, metrics, params, tags)  # type: ignore[misc]
        if linked:
            # The run took them, so they are valid; the model's copies follow.
            with transaction(self.engine, write=True) as conn:
                _record_model_points(conn, run_id, linked)


# -- checks -------------------------------------------------------------------------------------


def _checked_name(name: str | None) -> str:
    if name is None:
        return generate_run_name()
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(
            f"A logged model name must be a non-empty string, got {name!r}; leave it out to "
            "get a generated name."
        )
    bad = [c for c in _NAME_FORBIDDEN if c in name]
    if "\x00" in name:
        raise InvalidParameter("A logged model name must not contain NUL characters.")
    if bad:
        raise InvalidParameter(
            f"Invalid logged model name {name!r}: names cannot contain {' '.join(bad)} "
            f"(none of {' '.join(_NAME_FORBIDDEN)} is allowed)."
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameter(
            f"The logged model name exceeds the maximum length of {MAX_MODEL_NAME_LENGTH} "
            "characters."
        )
    return name


def _checked_model_type(model_type: str | None) -> str | None:
    if model_type is None or model_type == "":
        return None
    if (
        not isinstance(model_type, str)
        or len(model_type) > MAX_MODEL_NAME_LENGTH
        or "\x00" in model_type
    ):
        raise InvalidParameter(
            f"model_type must be a string of at most {MAX_MODEL_NAME_LENGTH} characters, "
            "without NUL characters."
        )
    return model_type


def _checked_tags(tags: Sequence[LoggedModelTag]) -> dict[str, str]:
    found = {}
    for tag in tags:
        v.validate_key(tag.key, "tag key")
        found[tag.key] = v.tag_value_str(tag.key, "" if tag.value is None else tag.value)
    return found


def _checked_params(params: Sequence[LoggedModelParameter]) -> dict[str, str]:
    v.validate_unique_param_keys([p.key for p in params])
    found = {}
    for p in params:
        v.validate_key(p.key, "param key")
        found[p.key] = v.param_value_str(p.key, "" if p.value is None else p.value)
    return found


# -- rows ---------------------------------------------------------------------------------------


def _active_experiment_location(conn: Any, exp_id: int) -> str:
    row = conn.execute(
        sa.select(experiments.c.lifecycle_stage, experiments.c.artifact_location).where(
            experiments.c.experiment_id == exp_id
        )
    ).first()
    if row is None:
        raise NotFound(f"No experiment with id={exp_id} exists.")
    if row.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameter(
            f"The experiment {exp_id} must be in the 'active' state. "
            f"Current state is {row.lifecycle_stage}."
        )
    return row.artifact_location or ""


def _active_run(conn: Any, run_id: str) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidParameter(f"Invalid run id {run_id!r}.")
    stage = conn.execute(
        sa.select(runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
    ).scalar()
    if stage is None:
        raise NotFound(f"Run with id={run_id} not found.")
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameter(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


def _model_row(conn: Any, model_id: str, allow_deleted: bool = False) -> Any:
    if not isinstance(model_id, str) or not MODEL_ID_PATTERN.match(model_id):
        raise model_not_found(model_id)
    row = conn.execute(_MODEL_ROW, {"model_id": model_id}).first()
    if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
        raise model_not_found(model_id)
    return row


def _touch(conn: Any, model_id: str) -> None:
    conn.execute(
        lm.update().where(lm.c.model_id == model_id).values(last_updated_timestamp_ms=now_ms())
    )


def _insert_pairs(conn: Any, table: sa.Table, model_id: str, pairs: dict[str, str]) -> None:
    if pairs:
        conn.execute(
            table.insert(),
            [{"model_id": model_id, "key": k, "value": val} for k, val in pairs.items()],
        )


def _record_model_points(conn: Any, run_id: str, metrics: Sequence[Metric]) -> None:
    """File points under their models; a point sent again replaces its earlier copy."""
    pts = logged_model_metrics
    rows = []
    for m in metrics:
        value = float(m.value)
        nan = value != value
        rows.append(
            {
                "model_id": m.model_id,
                "key": m.key,
                "value": 0.0 if nan else value,
                "is_nan": nan,
                "timestamp": int(m.timestamp),
                "step": int(m.step or 0),
                "run_uuid": run_id,
                "dataset_name": m.dataset_name or None,
                "dataset_digest": m.dataset_digest or None,
            }
        )
    same = pts.delete().where(
        pts.c.model_id == sa.bindparam("m_id"),
        pts.c.key == sa.bindparam("m_key"),
        pts.c.step == sa.bindparam("m_step"),
        pts.c.timestamp == sa.bindparam("m_ts"),
        pts.c.run_uuid == sa.bindparam("m_run"),
        sa.func.coalesce(pts.c.dataset_name, "") == sa.bindparam("m_dn"),
        sa.func.coalesce(pts.c.dataset_digest, "") == sa.bindparam("m_dd"),
    )
    conn.execute(
        same,
        [
            {
                "m_id": r["model_id"],
                "m_key": r["key"],
                "m_step": r["step"],
                "m_ts": r["timestamp"],
                "m_run": run_id,
                "m_dn": r["dataset_name"] or "",
                "m_dd": r["dataset_digest"] or "",
            }
            for r in rows
        ],
    )
    conn.execute(pts.insert(), rows)


def _load_models(conn: Any, rows: Sequence[Any]) -> list[LoggedModel]:
    """Full entities for ``logged_models`` rows: their tags, params and metric points."""
    if not rows:
        return []
    ids = [row.model_id for row in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[Metric]] = {i: [] for i in ids}
    pts = logged_model_metrics
    for start in range(0, len(ids), _LOAD_CHUNK):
        chunk = ids[start : start + _LOAD_CHUNK]
        for table, into in ((logged_model_tags, tags), (logged_model_params, params)):
            query = sa.select(table.c.model_id, table.c.key, table.c.value).where(
                table.c.model_id.in_(chunk)
            )
            for model_id, key, value in conn.execute(query):
                into[model_id][key] = value
        query = (
            sa.select(pts)
            .where(pts.c.model_id.in_(chunk))
            .order_by(pts.c.model_id, pts.c.key, pts.c.step, pts.c.timestamp, pts.c.point_id)
        )
        for p in conn.execute(query):
            metrics[p.model_id].append(
                Metric(
                    p.key,
                    float("nan") if p.is_nan else p.value,
                    p.timestamp,
                    p.step,
                    p.run_uuid,
                    p.dataset_name,
                    p.dataset_digest,
                    p.model_id,
                )
            )
    return [
        LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            creation_timestamp=row.creation_timestamp_ms,
            last_updated_timestamp=row.last_updated_timestamp_ms,
            status=LoggedModelStatus.normalize(row.status),
            model_type=row.model_type,
            source_run_id=row.source_run_id,
            status_message=row.status_message,
            tags=tags[row.model_id],
            params=params[row.model_id],
            metrics=metrics[row.model_id],
            lifecycle_stage=row.lifecycle_stage,
        )
        for row in rows
    ]


def model_links(conn: Any, run_id: str) -> tuple[RunOutputs, list[LoggedModelInput]]:
    """The models a run produced (its ``outputs``) and used (``inputs.model_inputs``)."""
    outs, ins = run_model_outputs, run_model_inputs
    query = sa.union_all(
        sa.select(outs.c.model_id, outs.c.step, sa.literal(True).label("produced")).where(
            outs.c.run_uuid == run_id
        ),
        sa.select(ins.c.model_id, sa.literal(0), sa.literal(False)).where(ins.c.run_uuid == run_id),
    )
    found = sorted(conn.execute(query).all(), key=lambda r: (r[1], r[0]))
    outputs = RunOutputs([LoggedModelOutput(mid, step) for mid, step, out in found if out])
    return outputs, [LoggedModelInput(mid) for mid, _, out in found if not out]
