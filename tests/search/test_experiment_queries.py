"""Experiment filters and orderings executed on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from mltrail.search import parse_experiment_filter, parse_experiment_order_by
from mltrail.store.sql.schema import experiments
from mltrail.store.sql.search import experiment_filter_clause, experiment_order_clauses


def find(db: Engine, filter_string: str | None, order_by: list[str] | None = None) -> list[int]:
    stmt = select(experiments.c.experiment_id).where(experiments.c.experiment_id >= 10)
    clause = experiment_filter_clause(parse_experiment_filter(filter_string))
    if clause is not None:
        stmt = stmt.where(clause)
    stmt = stmt.order_by(*experiment_order_clauses(parse_experiment_order_by(order_by)))
    with db.connect() as conn:
        return [row[0] for row in conn.execute(stmt)]


FILTERS = [
    ("name = 'alpha'", {10}),
    ("attribute.name LIKE 'beta%'", {12}),
    ("name ILIKE 'BETA%'", {11, 12}),
    ("name != 'alpha'", {11, 12, 13, 14}),
    ("name LIKE 'gamma\\_x'", {13}),
    ("NOT name LIKE 'beta%'", {10, 11, 13, 14}),
    ("experiment_id = '11'", {11}),
    ("experiment_id IN ('10', '12', 'x')", {10, 12}),
    ("experiment_id NOT IN ('10')", {11, 12, 13, 14}),
    ("experiment_id LIKE '1%'", {10, 11, 12, 13, 14}),
    ("creation_time >= 200", {11, 12}),
    ("creation_time < 200", {10, 14}),
    ("NOT creation_time < 200", {11, 12}),
    ("last_update_time > 100", {10, 11}),
    ("tags.team = 'Vision'", {10}),
    ("tag.team ILIKE 'vision'", {10}),
    ("tags.team LIKE 'vision'", set()),
    ("tags.team != 'nlp'", {10}),
    ("tags.team IS NULL", {12, 13, 14}),
    ("tags.team IS NOT NULL", {10, 11}),
    ("NOT tags.team IS NULL", {10, 11}),
    ("tags.owner LIKE 'c%'", {13}),
    ("name = 'alpha' OR tags.owner = 'carol'", {10, 13}),
    ("(name = 'alpha' OR name = 'delta') AND creation_time > 60", {10}),
    (None, {10, 11, 12, 13, 14}),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS)
def test_filter(experiments_db: Engine, filter_string: str | None, expected: set[int]) -> None:
    assert set(find(experiments_db, filter_string)) == expected


ORDERS = [
    # default creation_time DESC (missing last), experiment_id always the last tie-breaker
    (None, [11, 12, 10, 14, 13]),
    (["creation_time"], [14, 10, 11, 12, 13]),
    (["last_update_time DESC"], [10, 11, 13, 14, 12]),
    (["experiment_id DESC"], [14, 13, 12, 11, 10]),
    (["creation_time DESC", "experiment_id DESC"], [12, 11, 10, 14, 13]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS)
def test_order(experiments_db: Engine, order_by: list[str] | None, expected: list[int]) -> None:
    assert find(experiments_db, None, order_by) == expected


def test_order_by_name(experiments_db: Engine) -> None:
    # Lower-case names only: "Beta" against "alpha" depends on the collation.
    assert find(experiments_db, "name != 'Beta'", ["name"]) == [10, 12, 14, 13]
    assert find(experiments_db, "name != 'Beta'", ["attribute.name DESC"]) == [13, 14, 12, 10]
