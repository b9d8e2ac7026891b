"""Logged models' rows in the SQL store: the checks of names, types, tags and params; the
statements that write tags, params and points; loading whole entities; a run's model links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    RunOutputs,
)
from mltrail.exceptions import InvalidParameter
from mltrail.store.sql.common import now_ms
from mltrail.store.sql.names import generate_run_name
from mltrail.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_model_outputs,
)
from mltrail.utils import validation as v

MAX_MODEL_NAME_LENGTH = 500
_NAME_FORBIDDEN = "/:.%\"'"
_LOAD_CHUNK = 500  # ids per IN (...) when loading the tags, params and metrics of a page

lm = logged_models


# -- checks -------------------------------------------------------------------------------------


def checked_name(name: str | None) -> str:
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


def checked_model_type(model_type: str | None) -> str | None:
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


def checked_tags(tags: Sequence[LoggedModelTag]) -> dict[str, str]:
    found = {}
    for tag in tags:
        v.validate_key(tag.key, "tag key")
        found[tag.key] = v.tag_value_str(tag.key, "" if tag.value is None else tag.value)
    return found


def checked_params(params: Sequence[LoggedModelParameter]) -> dict[str, str]:
    v.validate_unique_param_keys([p.key for p in params])
    found = {}
    for p in params:
        v.validate_key(p.key, "param key")
        found[p.key] = v.param_value_str(p.key, "" if p.value is None else p.value)
    return found


# -- rows ---------------------------------------------------------------------------------------


def touch(conn: Any, model_id: str) -> None:
    conn.execute(
        lm.update().where(lm.c.model_id == model_id).values(last_updated_timestamp_ms=now_ms())
    )


def insert_pairs(conn: Any, table: sa.Table, model_id: str, pairs: dict[str, str]) -> None:
    if pairs:
        conn.execute(
            table.insert(),
            [{"model_id": model_id, "key": k, "value": val} for k, val in pairs.items()],
        )


def record_model_points(conn: Any, run_id: str, metrics: Sequence[Metric]) -> None:
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


def load_models(conn: Any, rows: Sequence[Any]) -> list[LoggedModel]:
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
