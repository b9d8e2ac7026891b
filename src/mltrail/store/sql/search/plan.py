"""A run search's statements, built once per distinct search and kept (``run_search_plan``).

Building the SQLAlchemy statements of a search (its joins, EXISTS terms, ORDER BY items, the
few-runs count) costs more than running them on a small experiment, and SQLAlchemy's compiled
cache only helps once a statement exists. A notebook or the UI repeats the same search (same
experiments, view, filter and order) over and over, so ``run_search_plan`` keeps the last few
hundred searches' statements; each plan keeps its statements by page (offset and limit).

Statements are immutable and hold the searched values as bound parameters, so a plan can be
shared between threads; a race only builds a statement twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from mltrail.search import parse_run_filter, parse_run_order_by
from mltrail.search.ast import Node, OrderTerm
from mltrail.store.sql.rows import RUN_COLUMNS
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search import statement
from mltrail.store.sql.search.aliases import pooled_aliases
from mltrail.store.sql.search.passes import ByMetric

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

_MAX_PAGES_KEPT = 16  # statements kept per plan (one per page shape: offset, limit, kind)


class RunSearchPlan:
    """One search over runs (a select over ``runs``, a filter and an order) and its
    statements; ``rows`` reads a page the way ``search_run_rows`` describes."""

    def __init__(self, base: Select[Any], node: Node | None, terms: list[OrderTerm]) -> None:
        self.base = base
        self.node, self.terms = node, terms
        self._by_start = statement.starts_with_start_time(terms)
        first = terms[0].key if terms else None
        self._by_metric = (
            first is not None and first.kind == "metric" and first.aggregate in (None, "last")
        )
        self._kept: dict[tuple[str, int, int], Select[Any]] = {}

    def rows(self, conn: Connection, offset: int, limit: int) -> list[Row[Any]]:
        """Rows ``offset`` to ``offset + limit`` of the search: with one statement when the
        order starts with ``start_time`` or the runs are few (read runs first), else in passes
        when the order starts with a metric's latest value, else with one statement."""
        if self._by_start:
            query = self._kept_statement("one", offset, limit)
        elif self._few_runs(conn, max(statement.FEW_RUNS, offset + limit)):
            query = self._kept_statement("runs-first", offset, limit)
        elif self._by_metric:
            with pooled_aliases():
                return ByMetric(conn, self.base, self.node, self.terms).rows(offset, limit)
        else:
            query = self._kept_statement("one", offset, limit)
        return list(conn.execute(query).all())

    def _few_runs(self, conn: Connection, most: int) -> bool:
        counted = self._kept.get(("count", most, 0))
        if counted is None:
            counted = self._keep(("count", most, 0), statement.count_statement(self.base, most))
        return statement.few_runs(conn, self.base, most, counted)

    def _kept_statement(self, kind: str, offset: int, limit: int) -> Select[Any]:
        found = self._kept.get((kind, offset, limit))
        if found is not None:
            return found
        with pooled_aliases():
            if kind == "one":
                built = statement.one_statement(self.base, self.node, self.terms)
            else:
                built = statement.runs_first_statement(self.base, self.node, self.terms)
        return self._keep((kind, offset, limit), built.offset(offset).limit(limit))

    def _keep(self, key: tuple[str, int, int], stmt: Select[Any]) -> Select[Any]:
        if len(self._kept) >= _MAX_PAGES_KEPT:
            self._kept.clear()
        self._kept[key] = stmt
        return stmt


def run_search_plan(
    exp_ids: Sequence[int], stages: Sequence[str] | None, filter_string: str | None,
    order_by: Sequence[str] | None,
) -> RunSearchPlan:  # fmt: skip
    """The plan of a search, kept when the same search was planned lately. The filter and the
    order are parsed first, so bad input raises before any I/O (and is never kept)."""
    if order_by is not None and not isinstance(order_by, str):
        order_by = tuple(order_by)
    if not isinstance(filter_string, str | None) or not all(
        isinstance(item, str) for item in order_by or ()
    ):  # not hashable, perhaps: the parser says what is wrong with it
        node, terms = parse_run_filter(filter_string), parse_run_order_by(order_by)
        return RunSearchPlan(_base(exp_ids, stages), node, terms)
    return _kept_plan(
        tuple(exp_ids), None if stages is None else tuple(stages), filter_string, order_by
    )


@lru_cache(maxsize=256)
def _kept_plan(
    exp_ids: tuple[int, ...], stages: tuple[str, ...] | None, filter_string: str | None,
    order_by: tuple[str, ...] | str | None,
) -> RunSearchPlan:  # fmt: skip
    node = parse_run_filter(filter_string)
    terms = parse_run_order_by(order_by)  # a lone string is one item
    return RunSearchPlan(_base(exp_ids, stages), node, terms)


def _base(exp_ids: Sequence[int], stages: Sequence[str] | None) -> Select[Any]:
    base = select(*RUN_COLUMNS).where(runs.c.experiment_id.in_(list(exp_ids)))
    if stages is not None:  # no stage test for ALL, so the index can still order
        base = base.where(runs.c.lifecycle_stage.in_(list(stages)))
    return base
