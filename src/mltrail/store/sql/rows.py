"""Turning rows into entities, and loading the params, tags and metrics of many runs at once."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import orjson
import sqlalchemy as sa

from mltrail.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from mltrail.store.sql.metrics import _gc_paused
from mltrail.store.sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    latest_metrics,
    params,
    run_inputs,
    run_model_outputs,
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


def run_info(row: Any) -> RunInfo:
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


class _ByRunIds:
    """Selects of the params, tags, latest metrics and inputs of runs by id (the run id first in
    each row), built once per dialect, and how many ids one query takes.

    The ids travel as one parameter where the backend allows it: a JSON list on SQLite, an
    array on PostgreSQL. One bound parameter per id costs more to render and parse than the
    query takes to run.

    On SQLite and PostgreSQL, ``grouped`` reads the params and tags as one row per run instead
    (see ``_grouped_by_run``)."""

    _built: dict[str, _ByRunIds] = {}

    @classmethod
    def of(cls, dialect: str) -> _ByRunIds:
        found = cls._built.get(dialect)
        if found is None:
            found = cls._built[dialect] = cls(dialect)
        return found

    def __init__(self, dialect: str) -> None:
        self.grouped: sa.Select[Any] | None = None
        self.as_json = False  # whether the ids travel as JSON text
        if dialect == "sqlite":
            # JSON text made by orjson (SQLAlchemy's JSON type would use the slower json).
            listed = sa.func.json_each(sa.bindparam("ids", type_=sa.String())).table_valued("value")
            self.chunk = 1_000_000
            self.as_json = True
            self.grouped = _grouped_by_run(listed.c.value, sa.func.json_group_object)

            def of_run(col: Any) -> Any:
                return col.in_(sa.select(listed.c.value))

        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            array = sa.bindparam("ids", type_=ARRAY(sa.String()))
            self.chunk = 1_000_000
            unnested = sa.func.unnest(array).table_valued("value").render_derived()
            self.grouped = _grouped_by_run(unnested.c.value, _pg_object)

            def of_run(col: Any) -> Any:
                return col == sa.any_(array)

        else:
            expanding: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
            self.chunk = 500

            def of_run(col: Any) -> Any:
                return col.in_(expanding)

        lm = latest_metrics
        self.params = sa.select(params.c.run_uuid, params.c.key, params.c.value).where(
            of_run(params.c.run_uuid)
        )
        self.tags = sa.select(tags.c.run_uuid, tags.c.key, tags.c.value).where(
            of_run(tags.c.run_uuid)
        )
        self.metrics = sa.select(
            lm.c.run_uuid, lm.c.key, lm.c.value, lm.c.timestamp, lm.c.step, lm.c.is_nan
        ).where(of_run(lm.c.run_uuid))
        self.inputs = (
            sa.select(run_inputs.c.run_uuid, run_inputs.c.tags, datasets)
            .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
            .where(of_run(run_inputs.c.run_uuid))
        )
        # The models each run produced: search results carry outputs as get_run does.
        outs = run_model_outputs
        self.outputs = (
            sa.select(outs.c.run_uuid, outs.c.model_id, outs.c.step)
            .where(of_run(outs.c.run_uuid))
            .order_by(outs.c.step, outs.c.model_id)
        )


def _grouped_by_run(run_id: Any, object_of: Any) -> sa.Select[Any]:
    """Per run id (``run_id``, a column of the ids as a table), its params and tags as JSON
    objects (text, NULL or ``{}`` for none) and whether it has inputs and model outputs;
    ``object_of(key, value)`` aggregates rows to an object.

    Fetching a row costs Python far more than the database: a page of runs with 25 params and
    tags each reads 25 times fewer rows this way, and ``orjson`` parses the objects in C."""

    def as_object(table: sa.Table) -> Any:
        pairs = object_of(table.c.key, table.c.value)
        return sa.select(pairs).where(table.c.run_uuid == run_id).scalar_subquery()

    has_inputs = sa.exists().where(run_inputs.c.run_uuid == run_id)
    has_outputs = sa.exists().where(run_model_outputs.c.run_uuid == run_id)
    return sa.select(run_id, as_object(params), as_object(tags), has_inputs, has_outputs)


def _pg_object(key: Any, value: Any) -> Any:
    """PostgreSQL's object aggregate, as text (orjson parses it faster than the driver)."""
    return sa.cast(sa.func.json_object_agg(key, value), sa.Text)


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Full ``Run`` entities for rows of ``RUN_COLUMNS``, with two to four queries.

    A page of 1000 runs is some 30,000 rows and 10,000 objects: they are built with the
    cyclic garbage collector paused (it would otherwise walk every young object several times
    over) from rows fetched all at once."""
    if not rows:
        return []
    with _gc_paused():
        return _build_runs(conn, rows)


class _Loaded:
    """The params, tags, latest metrics and inputs of a page of runs, by run id."""

    def __init__(self, ids: list[str]) -> None:
        self.params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
        self.tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
        self.metrics: dict[str, list[Metric]] = {run_id: [] for run_id in ids}
        self.inputs: dict[str, RunInputs] = {}
        self.outputs: dict[str, list[LoggedModelOutput]] = {}

    def read(self, conn: Connection, by_ids: _ByRunIds, chunk: dict[str, Any]) -> None:
        if by_ids.grouped is None:
            self._read_rows(conn, by_ids, chunk)
            has_inputs = has_outputs = True  # not known: look
        else:
            has_inputs, has_outputs = self._read_grouped(conn, by_ids.grouped, chunk)
        self._read_metrics(conn, by_ids.metrics, chunk)
        if has_inputs:
            _add_inputs(self.inputs, conn.execute(by_ids.inputs, chunk).all())
        if has_outputs:
            for run_id, model_id, step in conn.execute(by_ids.outputs, chunk).all():
                self.outputs.setdefault(run_id, []).append(LoggedModelOutput(model_id, step))

    def _read_rows(self, conn: Connection, by_ids: _ByRunIds, chunk: dict[str, Any]) -> None:
        params_of, tags_of = self.params, self.tags
        for run_id, key, value in conn.execute(by_ids.params, chunk).all():
            params_of[run_id][key] = value
        for run_id, key, value in conn.execute(by_ids.tags, chunk).all():
            tags_of[run_id][key] = "" if value is None else value

    def _read_grouped(
        self, conn: Connection, grouped: sa.Select[Any], chunk: dict[str, Any]
    ) -> tuple[bool, bool]:
        """Params and tags from one row per run (metrics stay rows: SQLite's JSON would round
        their values to 15 digits). Whether some run has inputs, and some has outputs."""
        any_inputs = any_outputs = False
        params_of, tags_of = self.params, self.tags
        rows = conn.execute(grouped, chunk).all()
        for run_id, params_json, tags_json, has_inputs, has_outputs in rows:
            params_of[run_id] = orjson.loads(params_json) if params_json else {}
            found = orjson.loads(tags_json) if tags_json else {}
            if None in found.values():
                found = {k: "" if v is None else v for k, v in found.items()}
            tags_of[run_id] = found
            any_inputs = any_inputs or bool(has_inputs)
            any_outputs = any_outputs or bool(has_outputs)
        return any_inputs, any_outputs

    def _read_metrics(self, conn: Connection, stmt: sa.Select[Any], chunk: dict[str, Any]) -> None:
        metrics_of = self.metrics
        for run_id, key, value, timestamp, step, is_nan in conn.execute(stmt, chunk).all():
            metrics_of[run_id].append(
                Metric(key, NAN if is_nan else value, timestamp, step, run_id)
            )


def _build_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    ids = [row[0] for row in rows]
    loaded = _Loaded(ids)
    by_ids = _ByRunIds.of(conn.dialect.name)
    for start in range(0, len(ids), by_ids.chunk):
        chunk = ids[start : start + by_ids.chunk]
        loaded.read(
            conn, by_ids, {"ids": orjson.dumps(chunk).decode() if by_ids.as_json else chunk}
        )
    result = []
    page = cast(Sequence[tuple[Any, ...]], rows)  # rows of RUN_COLUMNS, nine values each
    for run_id, name, exp_id, user_id, status, start_time, end_time, stage, uri in page:
        metric_objs = loaded.metrics[run_id]
        info = RunInfo(
            run_id, str(exp_id), name or "", user_id or "", status, start_time, end_time,
            stage, uri or "",
        )  # fmt: skip
        data = RunData(
            {m.key: m.value for m in metric_objs},
            loaded.params[run_id],
            loaded.tags[run_id],
            metric_objs,
        )
        found = loaded.inputs.get(run_id)
        produced = loaded.outputs.get(run_id)
        result.append(
            Run(
                info,
                data,
                RunInputs() if found is None else found,
                RunOutputs(produced) if produced else RunOutputs(),
            )
        )
    return result


def _add_inputs(found: dict[str, RunInputs], rows: Sequence[Row[Any]]) -> None:
    for row in rows:
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
