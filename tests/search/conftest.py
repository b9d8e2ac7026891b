"""Real databases for the search tests: a temporary SQLite file, and fresh PostgreSQL and
MariaDB databases (``search_<random>``, dropped afterwards) so that tests of other packages
never collide."""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.exc import OperationalError

from mltrail.store.sql import schema

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306"

INF = math.inf
NAN = math.nan


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An empty schema on the backend named by the parameter."""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("search")) / "search.db"
        eng = create_engine(f"sqlite:///{path}")
        schema.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    name = f"search_{uuid.uuid4().hex[:12]}"
    if request.param == "postgres":
        server, admin_db, suffix, quote = PG_SERVER, "test", "", '"'
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    else:
        server, admin_db, suffix, quote = MYSQL_SERVER, "", "?charset=utf8mb4", "`"
        drop = f"DROP DATABASE IF EXISTS `{name}`"
    admin = create_engine(f"{server}/{admin_db}", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    except OperationalError as exc:  # the machine does not run this database server
        admin.dispose()
        pytest.skip(f"{request.param} is not reachable: {exc.orig}")
    eng = create_engine(f"{server}/{name}{suffix}")
    try:
        schema.metadata.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(drop))
        admin.dispose()


@pytest.fixture(scope="module")
def runs_db(engine: Engine) -> Engine:
    """The runs of ``load_runs`` in the module's database."""
    load_runs(engine)
    return engine


@pytest.fixture(scope="module")
def experiments_db(engine: Engine) -> Engine:
    """The experiments of ``load_experiments`` in the module's database."""
    load_experiments(engine)
    return engine


def metric(run: str, key: str, value: float, lo: float | None = None, hi: float | None = None):
    """A latest_metrics row; ``lo``/``hi`` default to the value (None when it is NaN)."""
    nan = math.isnan(value)
    default = None if nan else value
    return {
        "run_uuid": run,
        "key": key,
        "value": 0.0 if nan else value,
        "is_nan": nan,
        "timestamp": 1,
        "step": 0,
        "min_value": default if lo is None else lo,
        "max_value": default if hi is None else hi,
    }


def run(run_id: str, experiment: int = 1, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "run_uuid": run_id,
        "experiment_id": experiment,
        "name": None,
        "user_id": None,
        "status": "RUNNING",
        "start_time": None,
        "end_time": None,
        "lifecycle_stage": "active",
        "artifact_uri": f"file:///tmp/mlruns/{experiment}/{run_id}/artifacts",
    }
    row.update(fields)
    return row


def load_runs(eng: Engine) -> None:
    """Five active runs in experiment 1 covering NaN, infinities and missing values, one more
    in experiment 2 (``x1``: acc 0.99, solver adam) and a deleted one in 1 (``z9``: acc 0.99).

    ========  ==========  ===============  ==============  =========  ============
    run       acc (last)  acc min / max    loss            solver     start / end
    ========  ==========  ===============  ==============  =========  ============
    r1        0.95        0.5 / 0.95       0.1             adam       100 / 200
    r2        0.5         0.5 / 0.5        NaN (only NaN)  sgd        200 / -
    r3        NaN         0.2 / 0.8        +inf            Adam       300 / 350
    r4        -inf        -inf / -inf      -               -          300 / -
    r5        -           -                -               adam       50 / -
    ========  ==========  ===============  ==============  =========  ============
    """
    with eng.begin() as conn:
        conn.execute(
            insert(schema.experiments),
            [
                {"experiment_id": 1, "name": "one", "creation_time": 1},
                {"experiment_id": 2, "name": "two", "creation_time": 2},
            ],
        )
        conn.execute(
            insert(schema.runs),
            [
                run("r1", name="alpha", user_id="alice", status="FINISHED", start_time=100,
                    end_time=200),
                run("r2", name="beta", user_id="bob", start_time=200),
                run("r3", name="Gamma_1", user_id="alice", status="FAILED", start_time=300,
                    end_time=350),
                run("r4", name="Gamma11", start_time=300),
                run("r5", name="star*[x]?%", start_time=50),
                run("x1", experiment=2, name="alpha", start_time=100),
                run("z9", name="gone", start_time=400, lifecycle_stage="deleted"),
            ],
        )  # fmt: skip
        conn.execute(
            insert(schema.latest_metrics),
            _storable(eng, [
                metric("r1", "acc", 0.95, 0.5, 0.95),
                metric("r1", "loss", 0.1),
                metric("r2", "acc", 0.5),
                metric("r2", "loss", NAN),
                metric("r3", "acc", NAN, 0.2, 0.8),
                metric("r3", "loss", INF),
                metric("r4", "acc", -INF),
                metric("r4", "a b", 7.0),
                metric("x1", "acc", 0.99),
                metric("z9", "acc", 0.99),
            ]),
        )  # fmt: skip
        conn.execute(
            insert(schema.params),
            [
                {"run_uuid": "r1", "key": "solver", "value": "adam"},
                {"run_uuid": "r2", "key": "solver", "value": "sgd"},
                {"run_uuid": "r3", "key": "solver", "value": "Adam"},
                {"run_uuid": "r5", "key": "solver", "value": "adam"},
                {"run_uuid": "r1", "key": "rank", "value": "b"},
                {"run_uuid": "r2", "key": "rank", "value": "c"},
                {"run_uuid": "r3", "key": "rank", "value": "a"},
                {"run_uuid": "r1", "key": "path", "value": "C:\\data"},
                {"run_uuid": "x1", "key": "solver", "value": "adam"},
            ],
        )
        conn.execute(
            insert(schema.tags),
            [
                {"run_uuid": "r1", "key": "team", "value": "Vision"},
                {"run_uuid": "r2", "key": "team", "value": "vision"},
                {"run_uuid": "r3", "key": "team", "value": None},
                {"run_uuid": "r4", "key": "my key", "value": "x y"},
                {"run_uuid": "r1", "key": "mlflow.runName", "value": "alpha"},
                {"run_uuid": "r2", "key": "note", "value": "it's"},
            ],
        )
        conn.execute(
            insert(schema.datasets),
            [
                _dataset("d1", "mnist", "abc"),
                _dataset("d2", "cifar", "def"),
            ],
        )
        conn.execute(
            insert(schema.run_inputs),
            [
                _input("r1", "d1", "train"),
                _input("r1", "d2", "eval"),
                _input("r2", "d1", None),
                _input("r3", "d2", "eval"),
            ],
        )


def _storable(eng: Engine, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """MySQL cannot store infinity: it keeps the largest double, as the store does there."""
    if eng.dialect.name != "mysql":
        return rows
    big = sys.float_info.max
    clamp = {math.inf: big, -math.inf: -big}
    return [{k: clamp.get(v, v) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _dataset(uid: str, name: str, digest: str) -> dict[str, object]:
    return {
        "dataset_uuid": uid,
        "experiment_id": 1,
        "name": name,
        "digest": digest,
        "source_type": "local",
        "source": f"/data/{name}",
    }


def _input(run_id: str, dataset: str, context: str | None) -> dict[str, object]:
    tags = {} if context is None else {"mlflow.data.context": context}
    return {"run_uuid": run_id, "dataset_uuid": dataset, "tags": json.dumps(tags)}


def load_experiments(eng: Engine) -> None:
    """Experiments 10..14 (ids far from the runs' experiments) with times and tags."""
    with eng.begin() as conn:
        conn.execute(
            insert(schema.experiments),
            [
                {"experiment_id": 10, "name": "alpha", "creation_time": 100,
                 "last_update_time": 500},
                {"experiment_id": 11, "name": "Beta", "creation_time": 200,
                 "last_update_time": 300},
                {"experiment_id": 12, "name": "beta-2", "creation_time": 200,
                 "last_update_time": None},
                {"experiment_id": 13, "name": "gamma_x", "creation_time": None,
                 "last_update_time": 100},
                {"experiment_id": 14, "name": "delta", "creation_time": 50,
                 "last_update_time": 50},
            ],
        )  # fmt: skip
        conn.execute(
            insert(schema.experiment_tags),
            [
                {"experiment_id": 10, "key": "team", "value": "Vision"},
                {"experiment_id": 11, "key": "team", "value": "nlp"},
                {"experiment_id": 12, "key": "team", "value": None},
                {"experiment_id": 13, "key": "owner", "value": "carol"},
            ],
        )
