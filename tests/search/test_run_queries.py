"""Run filters and orderings executed on SQLite, PostgreSQL and MariaDB, through both the
join-based ``apply_run_search`` and the pure ``run_filter_clause``/``run_order_clauses``."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from mltrail.entities.enums import ViewType
from mltrail.search import parse_run_filter, parse_run_order_by
from mltrail.search.paging import decode_page_token, encode_page_token
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search import apply_run_search, run_filter_clause, run_order_clauses


def search(
    db: Engine, filter_string: str | None = None, order_by: list[str] | None = None,
    experiment: int = 1, offset: int = 0, limit: int = 100,
) -> list[str]:  # fmt: skip
    node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
    base = select(runs.c.run_uuid).where(
        runs.c.experiment_id == experiment, runs.c.lifecycle_stage == "active"
    )
    joined = apply_run_search(base, node, terms).offset(offset).limit(limit)
    clause = run_filter_clause(node)
    plain = base if clause is None else base.where(clause)
    plain = plain.order_by(*run_order_clauses(terms)).offset(offset).limit(limit)
    with db.connect() as conn:
        by_join = [row[0] for row in conn.execute(joined)]
        by_subquery = [row[0] for row in conn.execute(plain)]
    assert by_join == by_subquery
    return by_join


FILTERS = [
    # metrics: numbers, NaN fails all but !=, missing fails everything
    ("metrics.acc > 0.9", {"r1"}),
    ("metrics.acc = 0.5", {"r2"}),
    ("metrics.acc != 0.5", {"r1", "r3", "r4"}),
    ("metrics.acc < 0", {"r4"}),
    ("metrics.acc <= -1e308", {"r4"}),
    ("metrics.acc >= -1e400", {"r1", "r2", "r4"}),
    ("metrics.loss > 1e308", {"r3"}),
    ("metrics.loss >= 0", {"r1", "r3"}),
    ("metrics.loss != 0.1", {"r2", "r3"}),
    ("metrics.loss < 10000000000", {"r1"}),
    ("metrics.`a b` = 7", {"r4"}),
    ('metrics."a b" = 7.0', {"r4"}),
    ("metrics.missing != 1", set()),
    # NOT keeps missing values out; NaN satisfies the negation of everything but !=
    ("NOT metrics.acc > 0.9", {"r2", "r3", "r4"}),
    ("NOT metrics.acc != 0.5", {"r2"}),
    ("NOT metrics.loss = 0.1", {"r2", "r3"}),
    ("NOT (metrics.acc > 0.9 OR metrics.acc < 0)", {"r2", "r3"}),
    ("NOT NOT metrics.acc > 0.9", {"r1"}),
    # aggregates over the history
    ("min(metrics.acc) < 0.3", {"r3", "r4"}),
    ("max(metrics.acc) >= 0.8", {"r1", "r3"}),
    ("MAX(metrics.acc) >= 0.8 AND last(metrics.acc) > 0", {"r1"}),
    ("last(metrics.acc) > 0.9", {"r1"}),
    ("min(metrics.loss) != 1", {"r1", "r2", "r3"}),
    ("min(metrics.loss) < 1", {"r1"}),
    ("NOT min(metrics.loss) < 1", {"r2", "r3"}),
    # params and tags are strings; LIKE is case-sensitive, ILIKE is not
    ("params.solver = 'adam'", {"r1", "r5"}),
    ('params.solver = "adam"', {"r1", "r5"}),
    ("params.solver != 'adam'", {"r2", "r3"}),
    ("params.solver LIKE 'a%'", {"r1", "r5"}),
    ("params.solver LIKE 'A%'", {"r3"}),
    ("params.solver ILIKE 'A%'", {"r1", "r3", "r5"}),
    ("params.solver ILIKE '_DAM'", {"r1", "r3", "r5"}),
    ("params.solver NOT LIKE 'a%'", {"r2", "r3"}),
    ("params.solver IS NULL", {"r4"}),
    ("params.solver IS NOT NULL", {"r1", "r2", "r3", "r5"}),
    ("NOT params.solver IS NULL", {"r1", "r2", "r3", "r5"}),
    ("NOT params.solver IS NOT NULL", {"r4"}),
    ("params.path = 'C:\\data'", {"r1"}),
    ("params.path LIKE 'C:\\\\\\\\%'", {"r1"}),
    ("parameters.solver = 'sgd'", {"r2"}),
    ("tags.team = 'vision'", {"r2"}),
    ("tags.team ILIKE 'VISION'", {"r1", "r2"}),
    ("tags.team != 'vision'", {"r1"}),
    ("tags.team IS NULL", {"r3", "r4", "r5"}),
    ("tags.`my key` = 'x y'", {"r4"}),
    ("tags.\"mlflow.runName\" = 'alpha'", {"r1"}),
    ("tag.note = 'it''s'", {"r2"}),
    ('tag.note = "it\'s"', {"r2"}),
    # attributes
    ("status = 'FINISHED'", {"r1"}),
    ("attributes.status != 'RUNNING'", {"r1", "r3"}),
    ("run_id IN ('r1', 'r2', 'x1')", {"r1", "r2"}),
    ("run_id NOT IN ('r1', 'r2')", {"r3", "r4", "r5"}),
    ("attr.run_id = 'r3'", {"r3"}),
    ("run_name = 'alpha'", {"r1"}),
    ("`Run name` LIKE 'Gamma_1'", {"r3", "r4"}),
    ("`run name` LIKE 'Gamma\\_1'", {"r3"}),
    ("run.run_name LIKE 'star*[x]?\\%'", {"r5"}),
    ("run_name LIKE 's_ar*%'", {"r5"}),
    ("run_name LIKE 'star%'", {"r5"}),
    ("run_name LIKE 'star'", set()),
    ("run_name ILIKE 'GAMMA%'", {"r3", "r4"}),
    ("run_name LIKE 'gamma%'", set()),
    ("user_id = 'alice'", {"r1", "r3"}),
    ("user_id != 'alice'", {"r2"}),
    ("artifact_uri LIKE '%/r2/%'", {"r2"}),
    ("start_time >= 300", {"r3", "r4"}),
    ("attributes.start_time < 250", {"r1", "r2", "r5"}),
    ("created = 100", {"r1"}),
    ("Created != 100", {"r2", "r3", "r4", "r5"}),
    ("end_time > 0", {"r1", "r3"}),
    ("NOT end_time > 250", {"r1"}),
    ("end_time < 1e12", {"r1", "r3"}),
    # boolean structure: NOT > AND > OR
    ("metrics.acc > 0.9 OR params.solver = 'sgd'", {"r1", "r2"}),
    ("params.solver = 'sgd' OR params.solver = 'adam' AND metrics.acc > 0.9", {"r1", "r2"}),
    ("(params.solver = 'sgd' OR params.solver = 'adam') AND metrics.acc > 0.4", {"r1", "r2"}),
    ("NOT params.solver = 'adam' AND metrics.acc != 0", {"r2", "r3"}),
    ("NOT (params.solver = 'adam' AND metrics.acc != 0)", {"r2", "r3"}),
    ("metrics.acc > 0 and metrics.acc < 0.9 and params.solver = 'sgd'", {"r2"}),
    ("metrics.acc > 0.4 AND NOT metrics.acc > 0.9 AND tags.team IS NOT NULL", {"r2"}),
    ("metrics.acc != 1 OR run_name = 'star*[x]?%'", {"r1", "r2", "r3", "r4", "r5"}),
    # datasets: true when one of the run's inputs matches
    ("dataset.name = 'mnist'", {"r1", "r2"}),
    ("datasets.name != 'mnist'", {"r1", "r3"}),
    ("dataset.digest IN ('abc', 'zzz')", {"r1", "r2"}),
    ("dataset.name NOT IN ('mnist')", {"r1", "r3"}),
    ("dataset.context = 'train'", {"r1"}),
    ("dataset.context LIKE 'e%'", {"r1", "r3"}),
    ("NOT dataset.name = 'mnist'", {"r3"}),
    ("NOT dataset.context = 'train'", {"r3"}),
    ("dataset.name = 'mnist' AND dataset.context = 'eval'", {"r1"}),
    (None, {"r1", "r2", "r3", "r4", "r5"}),
    ("   ", {"r1", "r2", "r3", "r4", "r5"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS)
@pytest.mark.parametrize("order_by", [None, ["run_id"], ["metrics.acc DESC"], ["params.solver"]])
def test_filter(
    runs_db: Engine, filter_string: str | None, expected: set[str], order_by: list[str] | None
) -> None:
    # The order decides between joins and EXISTS in apply_run_search: try both.
    assert set(search(runs_db, filter_string, order_by)) == expected


def test_filter_stays_inside_the_experiment(runs_db: Engine) -> None:
    assert search(runs_db, "metrics.acc > 0.9", experiment=2) == ["x1"]
    assert search(runs_db, "params.solver = 'adam'", experiment=2) == ["x1"]


ORDERS = [
    # default: start_time DESC, then run id
    ([], ["r3", "r4", "r2", "r1", "r5"]),
    (["start_time"], ["r5", "r1", "r2", "r3", "r4"]),
    (["start_time DESC"], ["r3", "r4", "r2", "r1", "r5"]),
    (["created asc"], ["r5", "r1", "r2", "r3", "r4"]),
    # metrics: real values, then NaN, then missing, in both directions
    (["metrics.acc DESC"], ["r1", "r2", "r4", "r3", "r5"]),
    (["metrics.acc"], ["r4", "r2", "r1", "r3", "r5"]),
    (["metrics.loss ASC"], ["r1", "r3", "r2", "r4", "r5"]),
    (["metrics.loss DESC"], ["r3", "r1", "r2", "r4", "r5"]),
    (["min(metrics.acc) ASC"], ["r4", "r3", "r2", "r1", "r5"]),
    (["max(metrics.acc) DESC"], ["r1", "r3", "r2", "r4", "r5"]),
    (["min(metrics.loss) DESC"], ["r3", "r1", "r2", "r4", "r5"]),
    (["last(metrics.acc) DESC"], ["r1", "r2", "r4", "r3", "r5"]),
    # params and tags: strings, missing last
    (["params.rank"], ["r3", "r1", "r2", "r4", "r5"]),
    (["params.rank DESC"], ["r2", "r1", "r3", "r4", "r5"]),
    # attributes with missing values, and several terms
    (["end_time DESC"], ["r3", "r1", "r4", "r2", "r5"]),
    (["end_time"], ["r1", "r3", "r4", "r2", "r5"]),
    (["user_id DESC"], ["r2", "r3", "r1", "r4", "r5"]),
    (["status", "run_id DESC"], ["r3", "r1", "r5", "r4", "r2"]),
    (["metrics.acc DESC", "params.rank"], ["r1", "r2", "r4", "r3", "r5"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS)
def test_order(runs_db: Engine, order_by: list[str], expected: list[str]) -> None:
    assert search(runs_db, None, order_by) == expected


def test_order_on_strings_that_differ_in_case(runs_db: Engine) -> None:
    # "adam" against "Adam" depends on the collation; check only what every backend agrees on:
    # a NULL tag value counts as missing, ties fall back to start_time then run id.
    got = search(runs_db, None, ["tags.team DESC"])
    assert set(got[:2]) == {"r1", "r2"} and got[2:] == ["r3", "r4", "r5"]
    got = search(runs_db, None, ["params.solver DESC", "start_time"])
    assert got[0] == "r2" and got[-1] == "r4" and got.index("r5") < got.index("r1")


def test_filter_and_order_on_the_same_metric(runs_db: Engine) -> None:
    assert search(runs_db, "metrics.acc > -1", ["metrics.acc DESC"]) == ["r1", "r2"]
    assert search(runs_db, "metrics.acc != 7", ["metrics.acc"]) == ["r4", "r2", "r1", "r3"]
    assert search(runs_db, "NOT metrics.acc > 0.9", ["max(metrics.acc) DESC"]) == ["r3", "r2", "r4"]


def test_order_inside_or_filter(runs_db: Engine) -> None:
    got = search(runs_db, "metrics.acc > 0.9 OR params.rank = 'a'", ["params.rank"])
    assert got == ["r3", "r1"]


def test_pages_follow_the_order(runs_db: Engine) -> None:
    order = ["metrics.acc DESC"]
    pages = [search(runs_db, None, order, offset=i, limit=2) for i in (0, 2, 4)]
    assert pages == [["r1", "r2"], ["r4", "r3"], ["r5"]]


def test_full_statement_with_stage_and_limit(runs_db: Engine) -> None:
    base = select(runs).where(runs.c.experiment_id.in_([1, 2]), runs.c.lifecycle_stage == "active")
    stmt = apply_run_search(
        base, parse_run_filter("params.solver = 'adam'"), parse_run_order_by(["metrics.acc DESC"])
    )
    with runs_db.connect() as conn:
        rows = conn.execute(stmt.limit(2)).all()
    assert [row.run_uuid for row in rows] == ["x1", "r1"]
    assert rows[0].name == "alpha"  # whole run rows, not joined columns


def store_search(
    db: Engine, experiment_ids: list[str], view_type: int, filter_string: str | None,
    order_by: list[str] | None, max_results: int, page_token: str | None,
) -> tuple[list[str], str | None]:  # fmt: skip
    """The recipe of the ``mltrail.store.sql.search`` docstring, as the SQL store runs it."""
    node = parse_run_filter(filter_string)
    terms = parse_run_order_by(order_by)
    offset = decode_page_token(page_token)
    ids = [int(i) for i in experiment_ids]
    stmt = select(runs).where(runs.c.experiment_id.in_(ids))
    if view_type != ViewType.ALL:
        stage = "active" if view_type == ViewType.ACTIVE_ONLY else "deleted"
        stmt = stmt.where(runs.c.lifecycle_stage == stage)
    stmt = apply_run_search(stmt, node, terms).offset(offset).limit(max_results + 1)
    with db.connect() as conn:
        rows = conn.execute(stmt).all()
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return [row.run_uuid for row in rows[:max_results]], token


@pytest.mark.parametrize(
    ("experiment_ids", "view_type", "filter_string", "order_by", "expected"),
    [
        (["1"], ViewType.ACTIVE_ONLY, None, None, ["r3", "r4", "r2", "r1", "r5"]),
        (["1"], ViewType.ALL, None, None, ["z9", "r3", "r4", "r2", "r1", "r5"]),
        (["1"], ViewType.DELETED_ONLY, None, None, ["z9"]),
        (["1", "2"], ViewType.ALL, "metrics.acc > 0.9", ["metrics.acc DESC"], ["z9", "x1", "r1"]),
        (["1", "2"], ViewType.ACTIVE_ONLY, "params.solver = 'adam'", None, ["r1", "x1", "r5"]),
        (["2", "1"], ViewType.ACTIVE_ONLY, None, ["metrics.acc DESC"],
         ["x1", "r1", "r2", "r4", "r3", "r5"]),
    ],
)  # fmt: skip
def test_store_recipe_pages_through_everything(
    runs_db: Engine, experiment_ids: list[str], view_type: int, filter_string: str | None,
    order_by: list[str] | None, expected: list[str],
) -> None:  # fmt: skip
    one_page, token = store_search(
        runs_db, experiment_ids, view_type, filter_string, order_by, 100, None
    )
    assert one_page == expected and token is None
    pages: list[list[str]] = []
    token = None
    while True:
        page, token = store_search(
            runs_db, experiment_ids, view_type, filter_string, order_by, 2, token
        )
        pages.append(page)
        if token is None:
            break
    assert [run_id for page in pages for run_id in page] == expected
    assert all(len(page) == 2 for page in pages[:-1])
