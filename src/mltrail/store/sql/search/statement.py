"""One search statement over ``runs``: ``Search`` gathers its joins, WHERE terms and ORDER BY
items and assembles them in the join order SQLite should read; ``one_statement`` and
``runs_first_statement`` are the two statements ``search_run_rows`` runs, and ``few_runs``
decides between the latter and the passes of ``mltrail.store.sql.search.passes``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from mltrail.search.ast import Comparison, Identifier, Node, OrderTerm
from mltrail.search.patterns import straight_join
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search.filters import (
    NEGATED,
    RUN_ATTRIBUTES,
    compile_filter,
    conjuncts,
    joinable,
    key_pred,
    run_leaf,
)
from mltrail.store.sql.search.ordering import Joined, by_column, by_key, run_tie_breakers

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def one_statement(stmt: Select[Any], node: Node | None, terms: list[OrderTerm]) -> Select[Any]:
    """What ``apply_run_search`` returns (inside ``pooled_aliases``)."""
    # When the page is in start_time order, walking the runs index and testing each run with
    # EXISTS stops at the end of the page; a join would tempt SQLite (which has no range
    # statistics) to gather and sort every match first, ten times slower for broad filters.
    search = Search(node, by_start=starts_with_start_time(terms))
    return search.assemble(stmt, search.order(terms) + run_tie_breakers(terms))


def runs_first_statement(
    stmt: Select[Any], node: Node | None, terms: list[OrderTerm]
) -> Select[Any]:
    """``one_statement`` for an experiment of few runs: SQLite reads the runs first, then
    looks up each joined key by run; left to itself it might start from a metric range that
    spans every experiment."""
    search = Search(node, by_start=False)
    return search.assemble(stmt, search.order(terms) + run_tie_breakers(terms), runs_first=True)


# Up to this many runs in the searched experiments (and stage), or up to the end of the page
# when that is further, one statement that reads every run and sorts the matches costs less
# than planning and running the passes of ``ByMetric`` (a few counts and up to three
# statements: over 1 ms on SQLite). Measured with benchmarks/search_100k.py --few-runs.
FEW_RUNS = 300


def few_runs(
    conn: Connection, stmt: Select[Any], most: int, counted: Select[Any] | None = None
) -> bool:
    """Whether ``stmt`` (a select over ``runs``) selects at most ``most`` runs: counted on the
    experiment index, reading no more than ``most + 1`` of its entries. ``counted`` is
    ``count_statement(stmt, most)`` when the caller keeps it."""
    if counted is None:
        counted = count_statement(stmt, most)
    return int(conn.execute(counted).scalar_one()) <= most


def count_statement(stmt: Select[Any], most: int) -> Select[Any]:
    """How many runs ``stmt`` selects, up to ``most + 1`` (the test of ``few_runs``)."""
    found = stmt.with_only_columns(literal(1)).limit(most + 1).subquery()
    return select(func.count()).select_from(found)


def starts_with_start_time(terms: list[OrderTerm]) -> bool:
    return not terms or terms[0].key == Identifier("attribute", "start_time")


class Search:
    """The joins, WHERE terms and ORDER BY items of one search statement, put together by
    ``assemble``. Top-level metric/param/tag comparisons become inner joins unless ``by_start``
    (see ``one_statement``); the rest is correlated EXISTS."""

    def __init__(self, node: Node | None, by_start: bool) -> None:
        self.joins: dict[tuple[str, str], Joined] = {}
        self.where: list[ColumnElement[bool]] = []
        # Top-level metric comparisons an index range can serve: (key, op, value).
        self.ranges: list[tuple[str, str, float]] = []
        for item, negated in conjuncts(node, False) if node is not None else []:
            if not by_start and isinstance(item, Comparison) and joinable(item, negated):
                ident = item.left
                joined = self.joins.setdefault((ident.kind, ident.key), Joined(ident, outer=False))
                self.where.append(key_pred(joined.alias, item, negated))
                if ident.kind != "metric" or (item.op == "!=") == negated:
                    joined.known.add(ident.aggregate or "last")  # no NaN / NULL can pass
                    if ident.kind == "metric" and ident.aggregate in (None, "last"):
                        op = NEGATED[item.op] if negated else item.op
                        self.ranges.append((ident.key, op, float(item.value)))  # type: ignore[arg-type]
            else:
                self.where.append(compile_filter(item, run_leaf, negated))

    def order(self, terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
        """ORDER BY items for the terms (no tie-breakers), joining what they read."""
        order: list[ColumnElement[Any]] = []
        for term in terms:
            ident = term.key
            if ident.kind == "attribute":
                order += by_column(RUN_ATTRIBUTES[ident.key], term.ascending)
            else:
                joined = self.joins.setdefault((ident.kind, ident.key), Joined(ident, outer=True))
                order += by_key(joined, ident, term.ascending)
        return order

    def assemble(
        self,
        stmt: Select[Any],
        order: list[Any],
        first: Joined | None = None,
        runs_first: bool = False,
    ) -> Select[Any]:
        """The statement; with ``first``, SQLite reads that join first, then the other inner
        joins in the order they were made (matched on the first one's run id: a filter that
        fails skips the look-up in ``runs``), then ``runs``. With ``runs_first``, SQLite reads
        ``runs`` first, then the joins."""
        if runs_first:
            source: FromClause = runs
            for joined in sorted(self.joins.values(), key=lambda j: j.outer):
                if joined.outer:
                    source = source.outerjoin(joined.alias, joined.onclause)
                else:
                    source = straight_join(source, joined.alias, joined.onclause)
            stmt = stmt.select_from(source)
        elif first is None:
            # Inner joins first: SQLite keeps tables after a LEFT JOIN in written order.
            for joined in sorted(self.joins.values(), key=lambda j: j.outer):
                stmt = stmt.join_from(runs, joined.alias, joined.onclause, isouter=joined.outer)
        else:
            source = first.alias
            for joined in self.joins.values():
                if joined is not first and not joined.outer:
                    source = straight_join(source, joined.alias, joined.on(first.alias.c.run_uuid))
            source = straight_join(source, runs, first.onclause)
            for joined in self.joins.values():
                if joined.outer:
                    source = source.outerjoin(joined.alias, joined.onclause)
            stmt = stmt.select_from(source)
        return stmt.where(*self.where).order_by(*order)
