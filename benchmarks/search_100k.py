"""Time run searches over 100,000 runs (one experiment) on SQLite, and optionally PostgreSQL.

    .venv/bin/python benchmarks/search_100k.py [--runs 100000] [--postgres] [--plan]
    .venv/bin/python benchmarks/search_100k.py --few-runs 300 1000 3000

Each query asks for one page (1001 rows, as the store does for max_results=1000) through
``apply_run_search`` (joins) and through the pure clauses (correlated subqueries).

``--few-runs N ...`` instead times ``search_run_rows`` on SQLite experiments of N runs, for
orders that do not start with ``start_time``: the one statement that reads every run (what it
does for experiments of at most ``FEW_RUNS`` runs, or up to the end of the page) against the
plan it uses for larger ones (the metric passes), for a full page and a page of 10. Where the
two cross is where ``mltrail.store.sql.search.statement.FEW_RUNS`` belongs.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text

from mltrail.search import parse_run_filter, parse_run_order_by
from mltrail.store.sql import schema
from mltrail.store.sql.search import (
    apply_run_search,
    run_filter_clause,
    run_order_clauses,
    search_run_rows,
    statement,
)

QUERIES: list[tuple[str | None, list[str]]] = [
    ("metrics.acc > 0.9", ["metrics.acc DESC"]),
    ("metrics.acc > 0.999", ["metrics.acc DESC"]),
    ("metrics.acc > 0.9", []),
    ("metrics.acc > 0.999", []),
    ("metrics.acc > 0.9", ["metrics.loss"]),
    (None, []),
    (None, ["metrics.acc DESC"]),
    ("params.solver = 'adam' AND metrics.loss < 0.5", ["start_time DESC"]),
    ("tags.team = 'vision' AND max(metrics.acc) >= 0.95", []),
    ("metrics.acc > 0.9 OR params.solver = 'sgd'", ["params.lr"]),
    ("NOT metrics.acc > 0.1", []),
    ("run_name LIKE 'run-1234%'", []),
]


def populate(engine: Engine, n_runs: int) -> None:
    rng = random.Random(7)
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(schema.experiments), [{"experiment_id": 1, "name": "bench"}])
        batch = 10_000
        for start in range(0, n_runs, batch):
            runs, metrics, params, tags = [], [], [], []
            for i in range(start, min(start + batch, n_runs)):
                rid = uuid.UUID(int=rng.getrandbits(128)).hex
                runs.append(
                    {
                        "run_uuid": rid,
                        "name": f"run-{i}",
                        "experiment_id": 1,
                        "user_id": "bench",
                        "status": "FINISHED",
                        "start_time": 1_700_000_000_000 + i,
                        "end_time": 1_700_000_000_000 + i + 1000,
                        "lifecycle_stage": "active",
                        "artifact_uri": f"file:///mlruns/1/{rid}/artifacts",
                    }
                )
                for key in ("acc", "loss", "f1"):
                    value = math.nan if rng.random() < 0.01 else rng.random()
                    nan = math.isnan(value)
                    metrics.append(
                        {
                            "run_uuid": rid,
                            "key": key,
                            "value": 0.0 if nan else value,
                            "is_nan": nan,
                            "timestamp": i,
                            "step": 10,
                            "min_value": None if nan else value / 2,
                            "max_value": None if nan else min(1.0, value * 1.1),
                        }
                    )
                solver = rng.choice(["adam", "sgd", "lbfgs"])
                params += [
                    {"run_uuid": rid, "key": "solver", "value": solver},
                    {"run_uuid": rid, "key": "lr", "value": str(rng.choice([0.1, 0.01, 0.001]))},
                ]
                tags += [
                    {"run_uuid": rid, "key": "mlflow.runName", "value": f"run-{i}"},
                    {"run_uuid": rid, "key": "team", "value": rng.choice(["vision", "nlp"])},
                ]
            conn.execute(insert(schema.runs), runs)
            conn.execute(insert(schema.latest_metrics), metrics)
            conn.execute(insert(schema.params), params)
            conn.execute(insert(schema.tags), tags)


def timed(fn: Callable[[], Any], repeat: int = 7) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def run_queries(engine: Engine, label: str, plan: bool) -> None:
    base = select(schema.runs).where(
        schema.runs.c.experiment_id == 1, schema.runs.c.lifecycle_stage == "active"
    )
    print(f"\n{label}: median of 7, one page of 1001 rows")
    print(f"{'filter':<50} {'order_by':<22} {'joins ms':>9} {'subq ms':>9} {'rows':>6}")
    with engine.connect() as conn:
        for filter_string, order_by in QUERIES:
            node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
            joined = apply_run_search(base, node, terms).limit(1001)
            clause = run_filter_clause(node)
            plain = (base if clause is None else base.where(clause)).order_by(
                *run_order_clauses(terms)
            )
            plain = plain.limit(1001)
            ms_join, rows = timed(lambda stmt=joined: conn.execute(stmt).all())
            ms_plain, rows2 = timed(lambda stmt=plain: conn.execute(stmt).all(), repeat=3)
            assert [r.run_uuid for r in rows] == [r.run_uuid for r in rows2]
            print(
                f"{filter_string or '-':<50} {', '.join(order_by) or '-':<22} "
                f"{ms_join:>9.1f} {ms_plain:>9.1f} {len(rows):>6}"
            )
            if engine.dialect.name == "sqlite" and plan:
                sql = str(joined.compile(engine, compile_kwargs={"literal_binds": True}))
                for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)):
                    print("      ", row[-1])


FEW_RUNS_QUERIES: list[tuple[str | None, list[str]]] = [
    ("metrics.acc > 0.9", ["metrics.acc DESC"]),
    ("metrics.acc > 0.5", ["metrics.loss DESC"]),
    (None, ["metrics.acc DESC"]),
    ("params.solver = 'adam'", ["metrics.loss"]),
    ("metrics.acc > 0.999", ["metrics.loss"]),
]


def compare_few_runs(sizes: list[int]) -> None:
    """The one statement against the passes, on experiments of each size (see the docstring)."""
    print(f"{'runs':>6} {'page':>5} {'filter':<28} {'order_by':<18} {'one stmt':>9} {'passes':>9}")
    for n_runs in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            populate(engine, n_runs)
            base = select(schema.runs).where(
                schema.runs.c.experiment_id.in_([1]), schema.runs.c.lifecycle_stage.in_(["active"])
            )
            with engine.connect() as conn:
                for filter_string, order_by in FEW_RUNS_QUERIES:
                    node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
                    for limit in (1001, 11):
                        page = (base, node, terms, 0, limit)
                        ms = [_timed_plan(conn, few, page) for few in (True, False)]
                        print(
                            f"{n_runs:>6} {limit - 1:>5} {filter_string or '-':<28} "
                            f"{order_by[0]:<18} {ms[0]:>9.2f} {ms[1]:>9.2f}"
                        )
            engine.dispose()


def _timed_plan(conn: Connection, few: bool, page: tuple[Any, ...]) -> float:
    """Median ms of ``search_run_rows(conn, *page)`` with the few-runs plan forced on or off."""
    saved = statement.few_runs
    statement.few_runs = lambda *_: few  # type: ignore[assignment]
    try:
        search_run_rows(conn, *page)  # warm the statement caches
        return timed(lambda: search_run_rows(conn, *page), repeat=15)[0]
    finally:
        statement.few_runs = saved  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument(
        "--few-runs", type=int, nargs="+", metavar="N", help="compare plans at these sizes"
    )
    parser.add_argument("--postgres", action="store_true", help="also time PostgreSQL")
    parser.add_argument("--plan", action="store_true", help="print SQLite query plans")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading")
    args = parser.parse_args()
    if args.few_runs:
        compare_few_runs(args.few_runs)
        return

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

        t0 = time.perf_counter()
        populate(engine, args.runs)
        if args.analyze:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"SQLite: {args.runs} runs loaded in {time.perf_counter() - t0:.1f}s")
        run_queries(engine, "SQLite", args.plan)
        engine.dispose()

    if args.postgres:
        name = f"search_bench_{uuid.uuid4().hex[:8]}"
        server = "postgresql+psycopg://postgres@127.0.0.1:5432"
        admin = create_engine(f"{server}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(f"{server}/{name}")
        try:
            populate(engine, args.runs)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            run_queries(engine, "PostgreSQL", plan=False)
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
