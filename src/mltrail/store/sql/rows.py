"""Turning rows into entities, and loading the params, tags and metrics of many runs at once."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
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


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Full ``Run`` entities for run rows, with three queries whatever the number of runs."""
    if not rows:
        return []
    ids = [r.run_uuid for r in rows]
    by_run_params: dict[str, dict[str, str]] = defaultdict(dict)
    by_run_tags: dict[str, dict[str, str]] = defaultdict(dict)
    by_run_metrics: dict[str, list[Metric]] = defaultdict(list)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for run_id, key, value in conn.execute(
            sa.select(params.c.run_uuid, params.c.key, params.c.value).where(
                params.c.run_uuid.in_(chunk)
            )
        ):
            by_run_params[run_id][key] = value
        for run_id, key, value in conn.execute(
            sa.select(tags.c.run_uuid, tags.c.key, tags.c.value).where(tags.c.run_uuid.in_(chunk))
        ):
            by_run_tags[run_id][key] = value if value is not None else ""
        for run_id, key, value, ts, step, is_nan in conn.execute(
            sa.select(
                latest_metrics.c.run_uuid,
                latest_metrics.c.key,
                latest_metrics.c.value,
                latest_metrics.c.timestamp,
                latest_metrics.c.step,
                latest_metrics.c.is_nan,
            ).where(latest_metrics.c.run_uuid.in_(chunk))
        ):
            by_run_metrics[run_id].append(
                Metric(key, NAN if is_nan else value, ts, step, run_id=run_id)
            )
    inputs = _load_inputs(conn, ids)
    result = []
    for row in rows:
        metric_objs = by_run_metrics.get(row.run_uuid, [])
        data = RunData(
            metrics={m.key: m.value for m in metric_objs},
            params=by_run_params.get(row.run_uuid, {}),
            tags=by_run_tags.get(row.run_uuid, {}),
            metric_objs=metric_objs,
        )
        result.append(Run(run_info(row), data, inputs.get(row.run_uuid, RunInputs())))
    return result


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
