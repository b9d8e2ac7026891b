"""Compile search trees to SQLAlchemy Core expressions over ``mltrail.store.sql.schema``.

Semantics (the same on every backend):

* A run that lacks the metric, param or tag a comparison names fails it, ``!=`` included, and
  also fails its negation: comparisons on missing values are *unknown* and ``NOT unknown`` stays
  unknown (Kleene logic), so ``NOT metrics.acc > 0.9`` does not return runs without ``acc``.
* A NaN metric fails every comparison except ``!=``, which it satisfies (IEEE); so it satisfies
  ``NOT metrics.x > 1``. ``min()``/``max()`` of a metric with only NaN values count as NaN.
* ``IS NULL`` on a param or tag is true when the run does not have it.
* ``LIKE`` is case-sensitive, ``ILIKE`` is not (see ``search.patterns``).
* ``dataset.<field> op v`` is true when one of the run's datasets matches; its negation when
  the run has datasets and none of them matches.

``NOT`` is pushed down to the comparisons (De Morgan), each compiled in plain or negated form;
this keeps the SQL free of NULL-logic surprises and lets the planner use indexes.

How the SQL store builds a search (one page, newest first by default)::

    from mltrail.search import parse_run_filter, parse_run_order_by
    from mltrail.search.paging import decode_page_token, encode_page_token
    from mltrail.store.sql.search import search_run_rows

    node = parse_run_filter(filter_string)          # parse first: bad input fails before I/O
    terms = parse_run_order_by(order_by)
    offset = decode_page_token(page_token)
    ids = [int(i) for i in experiment_ids]
    stmt = select(runs).where(runs.c.experiment_id.in_(ids))
    if view_type != ViewType.ALL:                   # leave the stage out for ALL: index-friendly
        stage = "active" if view_type == ViewType.ACTIVE_ONLY else "deleted"
        stmt = stmt.where(runs.c.lifecycle_stage == stage)
    rows = search_run_rows(conn, stmt, node, terms, offset, max_results + 1)
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None

``search_run_rows`` returns the rows of ``apply_run_search(stmt, node, terms)`` from ``offset``.
When the order does not start with ``start_time``, it first counts the searched runs (up to a
few hundred, or the end of the page): when there are no more, one statement reads them all
(``runs`` first on SQLite) and sorts the matches. Otherwise, when the order starts with a
metric, it reads the page in passes (runs with a real value, with NaN, without the metric: see
``passes.ByMetric``), each in a plain column order an index can serve, instead of sorting every
match by one ``CASE`` expression.

``apply_run_search`` must get a select over ``schema.runs`` itself (not an alias); it adds
joins, WHERE terms and the full ORDER BY (tie-breakers included), and never repeats a run.
Metric/param/tag comparisons that are top-level ``AND`` terms become inner joins on
``latest_metrics``/``params``/``tags`` (one row per run and key), which SQLite can drive from
``ix_latest_metrics_key_value`` and, for ``metrics.acc > 0.9`` ordered by ``metrics.acc``, read
in index order up to the end of the page. When the order starts with ``start_time`` (the
default) they stay correlated ``EXISTS`` instead, so the planner walks
``ix_runs_experiment_stage_start`` newest first and stops at the page's end. Everything else
(``OR`` branches, ``IS NULL``, datasets) is a correlated ``EXISTS``.

``run_filter_clause`` and ``run_order_clauses`` give the same rows as a plain WHERE expression
and ORDER BY list (correlated subqueries) for callers that cannot add joins (counts, deletes,
other selects); ordering that way is slower on large experiments.

Tie-breakers: ``start_time DESC`` then ``run_uuid``. ``start_time`` is always set by
``create_run``, so it is ordered without ``NULLS LAST`` (an index can serve it on both
backends); every other field puts missing values last in both directions.

The modules, one concern each: ``filters`` (comparisons and boolean structure to conditions),
``ordering`` (ORDER BY items, tie-breakers), ``statement`` (one search statement, its join
order, and the few-runs test), ``passes`` (a page ordered by a metric, in passes), ``aliases``
(the alias pool), ``plan`` (the kept statements of a repeated search, which ``SqlStore`` uses
instead of ``search_run_rows``). This module holds the public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select
from sqlalchemy.sql.elements import ColumnElement

from mltrail.search.ast import Identifier, Node, OrderTerm
from mltrail.store.sql.schema import experiments
from mltrail.store.sql.search import statement
from mltrail.store.sql.search.aliases import pooled_aliases
from mltrail.store.sql.search.filters import (
    EXPERIMENT_ATTRIBUTES,
    RUN_ATTRIBUTES,
    compile_filter,
    experiment_leaf,
    run_leaf,
)
from mltrail.store.sql.search.ordering import by_column, by_key, run_tie_breakers

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row


def run_filter_clause(node: Node | None) -> ColumnElement[bool] | None:
    """A WHERE expression over ``schema.runs`` (correlated EXISTS); ``None`` for no filter."""
    return None if node is None else compile_filter(node, run_leaf, False)


def run_order_clauses(terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions over ``schema.runs`` (correlated subqueries), tie-breakers included."""
    out: list[ColumnElement[Any]] = []
    for term in terms:
        if term.key.kind == "attribute":
            out += by_column(RUN_ATTRIBUTES[term.key.key], term.ascending)
        else:
            out += by_key(None, term.key, term.ascending)
    return out + run_tie_breakers(terms)


def apply_run_search(stmt: Select[Any], node: Node | None, terms: list[OrderTerm]) -> Select[Any]:
    """Add the filter and order (tie-breakers included) to a select over ``schema.runs``,
    joining metric/param/tag rows where that is fastest. See the module docstring."""
    with pooled_aliases():
        return statement.one_statement(stmt, node, terms)


def search_run_rows(
    conn: Connection, stmt: Select[Any], node: Node | None, terms: list[OrderTerm], offset: int,
    limit: int,
) -> list[Row[Any]]:  # fmt: skip
    """Rows ``offset`` to ``offset + limit`` of the search: the rows, in the order, of
    ``apply_run_search(stmt, node, terms).offset(offset).limit(limit)``, found faster.

    ``stmt`` is a select over ``schema.runs`` that includes ``runs.run_uuid``. When it selects
    few runs, or the order starts with ``start_time``, this runs one statement; otherwise, when
    the order starts with a metric's latest value, the page is read in passes (see
    ``ByMetric``).
    """
    from mltrail.store.sql.search.plan import RunSearchPlan

    return RunSearchPlan(stmt, node, terms).rows(conn, offset, limit)


def experiment_filter_clause(node: Node | None) -> ColumnElement[bool] | None:
    """A WHERE expression over ``schema.experiments``; ``None`` for no filter."""
    return None if node is None else compile_filter(node, experiment_leaf, False)


def experiment_order_clauses(terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions over ``schema.experiments``: the terms (default ``creation_time
    DESC``), then ``experiment_id ASC`` unless it was given."""
    terms = terms or [OrderTerm(Identifier("attribute", "creation_time"), ascending=False)]
    out: list[ColumnElement[Any]] = []
    for term in terms:
        out += by_column(EXPERIMENT_ATTRIBUTES[term.key.key], term.ascending)
    if not any(t.key.key == "experiment_id" for t in terms):
        out.append(experiments.c.experiment_id.asc())
    return out


__all__ = [
    "apply_run_search",
    "experiment_filter_clause",
    "experiment_order_clauses",
    "run_filter_clause",
    "run_order_clauses",
    "search_run_rows",
]
