"""Pages ordered by a metric, read in passes (real values, then NaN, then missing) by
``search_run_rows``: every page must be the same slice, in the same order, as the single
statement of ``apply_run_search`` (and of the plain clauses) gives, on every backend and across
every pass boundary. The experiment here is small, so the passes are forced (as for a large
one) beside the one statement that reads its runs first; on SQLite the plan choices (bounded
walk, fallbacks, filter-driven passes, the one statement) are forced through small thresholds
too."""

from __future__ import annotations

import math
import sys
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from mltrail.search import parse_run_filter, parse_run_order_by
from mltrail.store.sql import schema
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search import (
    apply_run_search,
    passes,
    run_filter_clause,
    run_order_clauses,
    search_run_rows,
    statement,
)

NAN, INF = math.nan, math.inf
EXP = 7
N_RUNS = 36


def _score(i: int) -> float | None:
    """Real values with ties and infinities, NaN for every 7th run, missing for every 9th."""
    if i % 9 == 4:
        return None
    if i % 7 == 3:
        return NAN
    if i == 5:
        return INF
    if i == 6:
        return -INF
    return float((i * 5) % 11 - 4) / 2  # -2.0 .. 3.0, each value several times


def _aux(i: int) -> float | None:
    if i % 10 == 1:
        return None
    if i % 8 == 2:
        return NAN
    return (i * 7 % 13) / 13


def metric(run_id: str, key: str, value: float, clamp: bool) -> dict[str, Any]:
    nan = math.isnan(value)
    if clamp and math.isinf(value):  # MySQL cannot store infinity: the store clamps it
        value = math.copysign(sys.float_info.max, value)
    real = None if nan else value
    return {
        "run_uuid": run_id, "key": key, "value": 0.0 if nan else value, "is_nan": nan,
        "timestamp": 1, "step": 0, "min_value": real, "max_value": real,
    }  # fmt: skip


def run(run_id: str, experiment: int, start_time: int, stage: str = "active") -> dict[str, Any]:
    return {
        "run_uuid": run_id, "experiment_id": experiment, "name": None, "user_id": None,
        "status": "FINISHED", "start_time": start_time, "end_time": None,
        "lifecycle_stage": stage, "artifact_uri": None,
    }  # fmt: skip


@pytest.fixture(scope="module")
def pass_db(engine: Engine) -> Engine:
    """``N_RUNS`` active runs in experiment ``EXP`` (start times tied in threes, so the run id
    breaks ties), one deleted run and one run in another experiment, both with scores."""
    clamp = engine.dialect.name == "mysql"
    rows, metrics, params = [], [], []
    for i in range(N_RUNS):
        run_id = f"p{i:02d}"
        rows.append(run(run_id, EXP, start_time=1000 + i // 3))
        for key, value in (("score", _score(i)), ("aux", _aux(i))):
            if value is not None:
                metrics.append(metric(run_id, key, value, clamp))
        if i % 4:
            params.append({"run_uuid": run_id, "key": "grp", "value": "ab"[i % 4 % 2]})
    rows += [run("pdel", EXP, 1005, stage="deleted"), run("pother", EXP + 1, 1005)]
    metrics += [metric("pdel", "score", 1.0, clamp), metric("pother", "score", 1.0, clamp)]
    with engine.begin() as conn:
        conn.execute(
            insert(schema.experiments),
            [{"experiment_id": e, "name": f"passes-{e}"} for e in (EXP, EXP + 1)],
        )
        conn.execute(insert(schema.runs), rows)
        conn.execute(insert(schema.latest_metrics), metrics)
        conn.execute(insert(schema.params), params)
    return engine


FILTERS = [
    None,
    "metrics.aux > 0.3",  # a range broad enough to walk the sort order
    "metrics.aux < 0.1",  # a narrow range: drives the search on SQLite
    "metrics.aux >= 0.9",  # one run: fewer rows than the NaN pass would read
    "metrics.aux >= 0 AND metrics.aux <= 0.5 AND params.grp = 'a'",
    "metrics.score > -1",  # on the sort key itself: only real values, one pass
    "metrics.score != 3",  # needs the metric, NaN passes: no missing pass
    "NOT metrics.aux > 0.5",  # NaN and missing aux pass this one
    "params.grp = 'b' OR metrics.aux > 0.9",
    "min(metrics.score) >= 0",
    "params.grp IS NULL",
    "metrics.aux > 2",  # nothing
]
ORDERS = [
    ["metrics.score DESC"],
    ["metrics.score"],
    ["last(metrics.score) DESC", "params.grp"],
    ["metrics.score ASC", "start_time"],
    ["metrics.score DESC", "metrics.aux"],
    ["metrics.score DESC", "run_id DESC"],
    ["metrics.score", "max(metrics.score) DESC"],
    ["metrics.nothing DESC"],  # every run in the "missing" pass
]
# SQLite plan thresholds (walk factor, walk max, drive max): the defaults; a walk that gives
# up early, then starts from a narrow filter range or falls back to the one statement; the same
# with no range ever narrow enough; and no walk at all.
KNOBS = [None, (1, 20_000, 3), (1, 20_000, 0), (10, 0, 20_000)]


def _base(view_active: bool = True):  # type: ignore[no-untyped-def]
    stmt = select(runs.c.run_uuid, runs.c.start_time).where(runs.c.experiment_id.in_([EXP]))
    return stmt.where(runs.c.lifecycle_stage == "active") if view_active else stmt


def _reference(db: Engine, filter_string: str | None, order_by: list[str]) -> list[str]:
    node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
    clause = run_filter_clause(node)
    plain = _base() if clause is None else _base().where(clause)
    with db.connect() as conn:
        joined = [r.run_uuid for r in conn.execute(apply_run_search(_base(), node, terms))]
        by_subquery = [r.run_uuid for r in conn.execute(plain.order_by(*run_order_clauses(terms)))]
    assert joined == by_subquery
    return joined


def _page(db: Engine, filter_string: str | None, order_by: list[str], offset: int, limit: int):  # type: ignore[no-untyped-def]
    node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
    with db.connect() as conn:
        return [r.run_uuid for r in search_run_rows(conn, _base(), node, terms, offset, limit)]


@pytest.mark.parametrize("order_by", ORDERS, ids=lambda o: ",".join(o))
@pytest.mark.parametrize("filter_string", FILTERS, ids=str)
def test_every_page_matches_the_single_statement(
    pass_db: Engine, monkeypatch: pytest.MonkeyPatch, filter_string: str | None,
    order_by: list[str],
) -> None:  # fmt: skip
    expected = _reference(pass_db, filter_string, order_by)
    # First as the experiment is (few runs: one statement, runs read first), then in passes.
    variants = ["few"] + (KNOBS if pass_db.dialect.name == "sqlite" else [None])
    for knobs in variants:
        if knobs != "few":
            monkeypatch.setattr(statement, "few_runs", lambda *_: False)
        if isinstance(knobs, tuple):
            for name, value in zip(("_WALK_FACTOR", "_WALK_MAX", "_DRIVE_MAX"), knobs, strict=True):
                monkeypatch.setattr(passes, name, value)
        assert _page(pass_db, filter_string, order_by, 0, 1000) == expected
        for limit in (1, 4):
            for offset in range(len(expected) + 2):
                got = _page(pass_db, filter_string, order_by, offset, limit)
                assert got == expected[offset : offset + limit], (knobs, offset, limit)


def test_passes_keep_nan_after_real_values_and_missing_last(pass_db: Engine) -> None:
    scores = {f"p{i:02d}": _score(i) for i in range(N_RUNS)}
    for order, sign in (("metrics.score DESC", -1), ("metrics.score ASC", 1)):
        got = _page(pass_db, None, [order], 0, 100)
        assert len(got) == N_RUNS
        kinds = [
            "missing" if scores[r] is None else "nan" if math.isnan(scores[r]) else "real"  # type: ignore[arg-type]
            for r in got
        ]
        n_real, n_nan = kinds.count("real"), kinds.count("nan")
        assert kinds == ["real"] * n_real + ["nan"] * n_nan + ["missing"] * kinds.count("missing")
        values = [sign * scores[r] for r in got[:n_real]]  # type: ignore[operator]
        assert values == sorted(values)
        assert got[0] == ("p06" if sign == 1 else "p05")  # -inf first ascending, +inf descending


def test_other_stages_and_experiments_stay_out(pass_db: Engine) -> None:
    node, terms = parse_run_filter(None), parse_run_order_by(["metrics.score DESC"])
    with pass_db.connect() as conn:
        everything = [r.run_uuid for r in search_run_rows(conn, _base(False), node, terms, 0, 100)]
    assert "pdel" in everything and "pother" not in everything
    assert "pdel" not in _page(pass_db, None, ["metrics.score DESC"], 0, 100)


@pytest.mark.parametrize("passes", [False, True], ids=["few-runs", "passes"])
def test_pages_across_pass_boundaries_with_the_store_recipe(
    pass_db: Engine, monkeypatch: pytest.MonkeyPatch, passes: bool
) -> None:
    # Page through the way the store does (max_results + 1 rows, offset tokens): the pages
    # straddle the real/NaN and NaN/missing boundaries at several positions.
    if passes:
        monkeypatch.setattr(statement, "few_runs", lambda *_: False)
    order = ["metrics.score DESC"]
    expected = _reference(pass_db, None, order)
    for size in (1, 2, 3, 5):
        seen: list[str] = []
        offset = 0
        while True:
            rows = _page(pass_db, None, order, offset, size + 1)
            seen += rows[:size]
            if len(rows) <= size:
                break
            offset += size
        assert seen == expected


def test_few_runs_counts_the_searched_runs_only(pass_db: Engine) -> None:
    # N_RUNS active runs in EXP; the deleted one and the other experiment's do not count.
    with pass_db.connect() as conn:
        assert statement.few_runs(conn, _base(), N_RUNS)
        assert not statement.few_runs(conn, _base(), N_RUNS - 1)
        assert not statement.few_runs(conn, _base(False), N_RUNS)
