"""Turning rows into entities, and loading the params, tags and metrics of many runs at once."""

from __future__ import annotations

import contextlib
import gc
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from mltrail.store.sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    latest_metrics,
    params,
    run_inputs,
    runs,
    tags,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

NAN = float("nan")
RUN_COLUMNS = (
    runs.c.run_uuid,
    runs.c.name,
    runs.c.experiment_id,
    runs.c.user_id,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.lifecycle_stage,
    runs.c.artifact_uri,
)


def run_info(row: Row[Any]) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        run_name=row.name or "",
        user_id=row.user_id or "",
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        lifecycle_stage=row.lifecycle_stage,
        artifact_uri=row.artifact_uri or "",
    )


# The params, tags and latest metrics of a list of runs, by id (run id first in each row).
_IDS = sa.bindparam("ids", expanding=True)
_PARAMS_OF = sa.select(params.c.run_uuid, params.c.key, params.c.value).where(
    params.c.run_uuid.in_(_IDS)
)
_TAGS_OF = sa.select(tags.c.run_uuid, tags.c.key, tags.c.value).where(tags.c.run_uuid.in_(_IDS))
_METRICS_OF = sa.select(
    latest_metrics.c.run_uuid,
    latest_metrics.c.key,
    latest_metrics.c.value,
    latest_metrics.c.timestamp,
    latest_metrics.c.step,
    latest_metrics.c.is_nan,
).where(latest_metrics.c.run_uuid.in_(_IDS))
_IDS_PER_QUERY = 500  # well under SQLite's oldest limit on bound parameters (999)


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Full ``Run`` entities for rows of ``RUN_COLUMNS``, with four queries per 500 runs.

    A page of 1000 runs is some 30,000 rows and 10,000 objects: they are built with the
    cyclic garbage collector paused (it would otherwise walk every young object several times
    over) from rows fetched all at once."""
    if not rows:
        return []
    with _gc_paused():
        return _build_runs(conn, rows)


def _build_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    ids = [row[0] for row in rows]
    params_of: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    tags_of: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    metrics_of: dict[str, list[Metric]] = {run_id: [] for run_id in ids}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = {"ids": ids[start : start + _IDS_PER_QUERY]}
        for run_id, key, value in conn.execute(_PARAMS_OF, chunk).all():
            params_of[run_id][key] = value
        for run_id, key, value in conn.execute(_TAGS_OF, chunk).all():
            tags_of[run_id][key] = "" if value is None else value
        for run_id, key, value, timestamp, step, is_nan in conn.execute(_METRICS_OF, chunk).all():
            metrics_of[run_id].append(
                Metric(key, NAN if is_nan else value, timestamp, step, run_id)
            )
    inputs = _load_inputs(conn, ids)
    result = []
    for run_id, name, exp_id, user_id, status, start_time, end_time, stage, uri in rows:
        metric_objs = metrics_of[run_id]
        info = RunInfo(
            run_id, str(exp_id), name or "", user_id or "", status, start_time, end_time,
            stage, uri or "",
        )  # fmt: skip
        data = RunData(
            {m.key: m.value for m in metric_objs}, params_of[run_id], tags_of[run_id], metric_objs
        )
        found = inputs.get(run_id)
        result.append(Run(info, data, RunInputs() if found is None else found))
    return result


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_inputs(conn: Connection, ids: list[str]) -> dict[str, RunInputs]:
    found: dict[str, RunInputs] = {}
    query = (
        sa.select(run_inputs.c.run_uuid, run_inputs.c.tags, datasets)
        .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
        .where(run_inputs.c.run_uuid.in_(ids))
    )
    for row in conn.execute(query):
        dataset = Dataset(
            name=row.name,
            digest=row.digest,
            source_type=row.source_type,
            source=row.source,
            schema=row.schema,
            profile=row.profile,
        )
        input_tags = tuple(InputTag(k, v) for k, v in json.loads(row.tags).items())
        found.setdefault(row.run_uuid, RunInputs()).dataset_inputs.append(
            DatasetInput(dataset, input_tags)
        )
    return found


def load_experiments(conn: Connection, rows: Sequence[Row[Any]]) -> list[Experiment]:
    if not rows:
        return []
    ids = [r.experiment_id for r in rows]
    by_exp: dict[int, dict[str, str]] = defaultdict(dict)
    for exp_id, key, value in conn.execute(
        sa.select(
            experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value
        ).where(experiment_tags.c.experiment_id.in_(ids))
    ):
        by_exp[exp_id][key] = value if value is not None else ""
    return [
        Experiment(
            experiment_id=str(r.experiment_id),
            name=r.name,
            artifact_location=r.artifact_location or "",
            lifecycle_stage=r.lifecycle_stage,
            tags=by_exp.get(r.experiment_id, {}),
            creation_time=r.creation_time,
            last_update_time=r.last_update_time,
        )
        for r in rows
    ]


EXPERIMENT_COLUMNS = tuple(experiments.c)
