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
    from mltrail.search.sql import search_run_rows

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

``search_run_rows`` returns the rows of ``apply_run_search(stmt, node, terms)`` from ``offset``,
but when the order starts with a metric it reads them in passes (runs with a real value, with
NaN, without the metric: see ``_ByMetric``), each in a plain column order an index can serve,
instead of sorting every match by one ``CASE`` expression.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Alias, FromClause

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

from mltrail.search.ast import And, Comparison, Identifier, Node, Not, Or, OrderTerm
from mltrail.search.patterns import (
    DatasetContext,
    Double,
    exact,
    like,
    missing_last,
    straight_join,
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

_RUN_COLUMNS = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}
_EXPERIMENT_COLUMNS = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}
_KEY_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}
_NEGATED = {
    "=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "IN": "NOT IN",
    "NOT IN": "IN", "IS NULL": "IS NOT NULL", "IS NOT NULL": "IS NULL",
}  # fmt: skip

Leaf = Callable[[Comparison, bool], ColumnElement[bool]]


# -- public API ---------------------------------------------------------------------------------


def run_filter_clause(node: Node | None) -> ColumnElement[bool] | None:
    """A WHERE expression over ``schema.runs`` (correlated EXISTS); ``None`` for no filter."""
    return None if node is None else _compile(node, _run_leaf, False)


def run_order_clauses(terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions over ``schema.runs`` (correlated subqueries), tie-breakers included."""
    out: list[ColumnElement[Any]] = []
    for term in terms:
        if term.key.kind == "attribute":
            out += _by_column(_RUN_COLUMNS[term.key.key], term.ascending)
        else:
            out += _by_key(None, term.key, term.ascending)
    return out + _run_tie_breakers(terms)


def apply_run_search(stmt: Select[Any], node: Node | None, terms: list[OrderTerm]) -> Select[Any]:
    """Add the filter and order (tie-breakers included) to a select over ``schema.runs``,
    joining metric/param/tag rows where that is fastest. See the module docstring."""
    # When the page is in start_time order, walking the runs index and testing each run with
    # EXISTS stops at the end of the page; a join would tempt SQLite (which has no range
    # statistics) to gather and sort every match first, ten times slower for broad filters.
    with _pooled_aliases():
        search = _Search(node, by_start=_starts_with_start_time(terms))
        return search.assemble(stmt, search.order(terms) + _run_tie_breakers(terms))


def search_run_rows(
    conn: Connection, stmt: Select[Any], node: Node | None, terms: list[OrderTerm], offset: int,
    limit: int,
) -> list[Row[Any]]:  # fmt: skip
    """Rows ``offset`` to ``offset + limit`` of the search: the rows, in the order, of
    ``apply_run_search(stmt, node, terms).offset(offset).limit(limit)``, found faster.

    ``stmt`` is a select over ``schema.runs`` that includes ``runs.run_uuid``. When the order
    starts with a metric's latest value, the page is read in passes (see ``_ByMetric``);
    otherwise this runs the one statement.
    """
    first = terms[0].key if terms else None
    with _pooled_aliases():
        if first is not None and first.kind == "metric" and first.aggregate in (None, "last"):
            return _ByMetric(conn, stmt, node, terms).rows(offset, limit)
        query = apply_run_search(stmt, node, terms).offset(offset).limit(limit)
        return list(conn.execute(query))


def experiment_filter_clause(node: Node | None) -> ColumnElement[bool] | None:
    """A WHERE expression over ``schema.experiments``; ``None`` for no filter."""
    return None if node is None else _compile(node, _experiment_leaf, False)


def experiment_order_clauses(terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
    """ORDER BY expressions over ``schema.experiments``: the terms (default ``creation_time
    DESC``), then ``experiment_id ASC`` unless it was given."""
    terms = terms or [OrderTerm(Identifier("attribute", "creation_time"), ascending=False)]
    out: list[ColumnElement[Any]] = []
    for term in terms:
        out += _by_column(_EXPERIMENT_COLUMNS[term.key.key], term.ascending)
    if not any(t.key.key == "experiment_id" for t in terms):
        out.append(experiments.c.experiment_id.asc())
    return out


# -- aliases ------------------------------------------------------------------------------------
# Each alias builds its column collection on first use, which cost more than running a small
# search. Whole searches (``apply_run_search``, ``search_run_rows``) therefore take their
# aliases from a fixed pool, distinct within one call; loose clauses get fresh ones, since a
# caller may put two of them in one statement.
_POOL_SIZE = 24
_alias_pool: dict[str, list[Alias]] = {
    table.name: [table.alias(f"{table.name}_{i}") for i in range(_POOL_SIZE)]
    for table in (latest_metrics, params, tags, run_inputs, datasets, experiment_tags)
}
_alias_counts: ContextVar[dict[str, int] | None] = ContextVar("_alias_counts", default=None)


@contextmanager
def _pooled_aliases() -> Iterator[None]:
    if _alias_counts.get() is not None:  # already inside a whole search
        yield
        return
    token = _alias_counts.set({})
    try:
        yield
    finally:
        _alias_counts.reset(token)


def _alias(table: Any) -> Alias:
    counts = _alias_counts.get()
    if counts is None:
        return table.alias()
    n = counts.get(table.name, 0)
    counts[table.name] = n + 1
    pool = _alias_pool[table.name]
    return pool[n] if n < len(pool) else table.alias()


# -- one search statement -----------------------------------------------------------------------


def _starts_with_start_time(terms: list[OrderTerm]) -> bool:
    return not terms or terms[0].key == Identifier("attribute", "start_time")


class _Search:
    """The joins, WHERE terms and ORDER BY items of one search statement, put together by
    ``assemble``. Top-level metric/param/tag comparisons become inner joins unless ``by_start``
    (see ``apply_run_search``); the rest is correlated EXISTS."""

    def __init__(self, node: Node | None, by_start: bool) -> None:
        self.joins: dict[tuple[str, str], _Joined] = {}
        self.where: list[ColumnElement[bool]] = []
        # Top-level metric comparisons an index range can serve: (key, op, value).
        self.ranges: list[tuple[str, str, float]] = []
        for item, negated in _conjuncts(node, False) if node is not None else []:
            if not by_start and isinstance(item, Comparison) and _joinable(item, negated):
                ident = item.left
                joined = self.joins.setdefault((ident.kind, ident.key), _Joined(ident, outer=False))
                self.where.append(_key_pred(joined.alias, item, negated))
                if ident.kind != "metric" or (item.op == "!=") == negated:
                    joined.known.add(ident.aggregate or "last")  # no NaN / NULL can pass
                    if ident.kind == "metric" and ident.aggregate in (None, "last"):
                        op = _NEGATED[item.op] if negated else item.op
                        self.ranges.append((ident.key, op, float(item.value)))  # type: ignore[arg-type]
            else:
                self.where.append(_compile(item, _run_leaf, negated))

    def order(self, terms: list[OrderTerm]) -> list[ColumnElement[Any]]:
        """ORDER BY items for the terms (no tie-breakers), joining what they read."""
        order: list[ColumnElement[Any]] = []
        for term in terms:
            ident = term.key
            if ident.kind == "attribute":
                order += _by_column(_RUN_COLUMNS[ident.key], term.ascending)
            else:
                joined = self.joins.setdefault((ident.kind, ident.key), _Joined(ident, outer=True))
                order += _by_key(joined, ident, term.ascending)
        return order

    def assemble(
        self, stmt: Select[Any], order: list[Any], first: _Joined | None = None
    ) -> Select[Any]:
        """The statement; with ``first``, SQLite reads that join first, then the other inner
        joins in the order they were made (matched on the first one's run id: a filter that
        fails skips the look-up in ``runs``), then ``runs``."""
        if first is None:
            # Inner joins first: SQLite keeps tables after a LEFT JOIN in written order.
            for joined in sorted(self.joins.values(), key=lambda j: j.outer):
                stmt = stmt.join_from(runs, joined.alias, joined.onclause, isouter=joined.outer)
        else:
            source: FromClause = first.alias
            for joined in self.joins.values():
                if joined is not first and not joined.outer:
                    source = straight_join(source, joined.alias, joined.on(first.alias.c.run_uuid))
            source = straight_join(source, runs, first.onclause)
            for joined in self.joins.values():
                if joined.outer:
                    source = source.outerjoin(joined.alias, joined.onclause)
            stmt = stmt.select_from(source)
        return stmt.where(*self.where).order_by(*order)


# -- one page ordered by a metric, in passes ----------------------------------------------------

# The SQLite plan choices of _ByMetric (see there), in rows of latest_metrics indexes.
_WALK_FACTOR = 10  # the sort order's walk reads at most this many rows per row wanted...
_WALK_MAX = 20_000  # ...and never more than this (deeper pages: one statement, sorted)
_DRIVE_MAX = 20_000  # a filter range with fewer rows than this may drive the search
_NAN_VALUE = 0.0  # the value stored beside is_nan (see schema): lets an index find NaN rows


class _ByMetric:
    """A search whose order starts with a metric's latest value, read in up to three passes:

    1. runs with a real value, in value order (then the other terms and the tie-breakers);
    2. runs whose value is NaN, in the order of the other terms;
    3. runs without the metric, likewise.

    Together they are exactly the order of ``apply_run_search`` (real values first, NaN next,
    missing last), but each pass orders by plain columns, so the planner can read
    ``ix_latest_metrics_key_value`` in order and stop at the end of the page instead of sorting
    every match. A pass runs only when the earlier ones leave the page short, from offset 0
    then. A page that starts after the end of a pass (its offset is not known without counting
    that pass) is read with the one statement of ``apply_run_search`` instead, as are pages
    SQLite would read faster that way (below). Passes the filter rules out (``metrics.x > 0``
    leaves no NaN and no missing ``x``) are skipped.

    PostgreSQL and MySQL plan each pass from their statistics. SQLite has none on value ranges,
    so the plan is chosen here from cheap counts on the index (``CROSS JOIN`` keeps the order):

    * pass 1 walks the sort key's index in order, reading at most ``_WALK_FACTOR`` rows per
      row wanted (and ``_WALK_MAX`` in all): a broad filter fills the page within a few rows.
      When a filter range has fewer than ``_DRIVE_MAX`` rows (M) and the sort key more than
      M * M / wanted (the walk would read more rows than the range holds), or when the walk
      gives up, the pass starts from that range instead; without such a range, the page comes
      from the one statement;
    * pass 2 reads the index rows of NaN values (stored as ``_NAN_VALUE``), or the filter's
      range when that is smaller;
    * pass 3 starts from the filter's range when that is below ``_DRIVE_MAX``; otherwise SQLite
      walks the runs (it stops at the end of the page).
    """

    def __init__(
        self, conn: Connection, stmt: Select[Any], node: Node | None, terms: list[OrderTerm]
    ) -> None:
        self.conn, self.stmt, self.node, self.terms = conn, stmt, node, terms
        self.ascending = terms[0].ascending
        self.key = terms[0].key.key
        self.ident = Identifier("metric", self.key)
        self.rest = terms[1:]
        self.sqlite = conn.dialect.name == "sqlite"
        probe = _Search(node, by_start=False)
        joined = probe.joins.get(("metric", self.key))
        self.required = joined is not None  # the filter needs the metric: none is missing
        self.real_only = joined is not None and "last" in joined.known
        self.ranges = probe.ranges
        self._driver: tuple[str, int] | None = None
        self._driver_known = False

    def rows(self, offset: int, limit: int) -> list[Row[Any]]:
        """Rows ``offset`` to ``offset + limit`` of the whole order."""
        passes = ["real"]
        if not self.real_only:
            passes.append("nan")
            if not self.required:
                passes.append("missing")
        out: list[Row[Any]] = []
        seen: set[str] = set()
        skip = offset
        for which in passes:
            need = limit - len(out)
            if need <= 0:
                break
            got = self._fetch(which, skip, need)
            if got is None or (skip and not got):  # nothing read yet: out is empty
                stmt = apply_run_search(self.stmt, self.node, self.terms)
                return list(self.conn.execute(stmt.offset(offset).limit(limit)))
            if got:
                skip = 0  # the pass had more than ``skip`` rows: the next one starts at 0
                for row in got:
                    # Passes are separate statements: under READ COMMITTED a run written in
                    # between could show up twice.
                    if row.run_uuid not in seen:
                        seen.add(row.run_uuid)
                        out.append(row)
        return out

    def _fetch(self, which: str, skip: int, need: int) -> list[Row[Any]] | None:
        """Rows of one pass; None when the one statement is the better way to the page."""
        if which == "real" and self.sqlite:
            return self._fetch_real_sqlite(skip, need)
        return self._run(self._statement(which, self._drive_from(which)), skip, need)

    def _fetch_real_sqlite(self, skip: int, need: int) -> list[Row[Any]] | None:
        wanted = skip + need
        driver = self._filter_driver()
        if driver is not None and driver[1] >= _DRIVE_MAX:
            driver = None  # too broad to start from
        if driver is not None and not self._walk_pays(driver[1], wanted):
            return self._run(self._statement("real", driver[0]), skip, need)
        budget = _WALK_FACTOR * wanted
        if budget <= _WALK_MAX:
            bound = self._nth_value(budget)
            got = self._run(self._statement("real", "sort", bound), skip, need)
            if len(got) == need or bound is None:
                return got  # a full page, or the whole pass
        if driver is not None:
            return self._run(self._statement("real", driver[0]), skip, need)
        return None

    def _run(self, stmt: Select[Any], skip: int, need: int) -> list[Row[Any]]:
        return list(self.conn.execute(stmt.offset(skip).limit(need)))

    def _drive_from(self, which: str) -> str | None:
        """Which join SQLite reads first in a pass that does not walk the sort order: "sort"
        (the NaN rows of the sort key), the key of a filter range, or None (SQLite picks)."""
        if not self.sqlite:
            return None
        driver = self._filter_driver()
        if driver is None or driver[1] >= _DRIVE_MAX:
            return "sort" if which == "nan" else None
        key, rows = driver
        if which == "nan" and self._count_range(self.key, "=", _NAN_VALUE, rows) < rows:
            return "sort"  # fewer index rows of NaN (and zero) values than of the filter
        return key

    def _statement(
        self, which: str, first: str | None = None, bound: float | None = None
    ) -> Select[Any]:
        """The statement of a pass. ``first``: the join SQLite reads first ("sort" or a filter
        range's metric key); ``bound``: the last sort value pass 1 may read."""
        by_start = which == "missing" and first is None and _starts_with_start_time(self.rest)
        search = _Search(self.node, by_start)
        order: list[Any] = []
        if which == "missing":
            lm = _alias(latest_metrics)
            row = and_(lm.c.run_uuid == runs.c.run_uuid, lm.c.key == self.key)
            search.where.append(not_(exists(select(1).where(row).correlate(runs))))
        else:
            sort = search.joins.setdefault(("metric", self.key), _Joined(self.ident, outer=False))
            col = sort.alias.c.value
            if which == "nan":
                # The value test is redundant but lets the index find the NaN rows.
                nan_value = literal(_NAN_VALUE, Double())
                search.where += [sort.alias.c.is_nan == true(), col == nan_value]
            else:
                if "last" not in sort.known:
                    search.where.append(sort.alias.c.is_nan == false())
                    sort.known.add("last")
                if bound is not None:
                    limit = literal(bound, Double())
                    search.where.append(col <= limit if self.ascending else col >= limit)
                order = _by_key(sort, self.ident, self.ascending)
        order += search.order(self.rest) + _run_tie_breakers(self.rest)
        joined = None
        if first is not None:
            joined = search.joins.get(("metric", self.key if first == "sort" else first))
        return search.assemble(self.stmt, order, joined)

    # -- counting on SQLite's indexes --

    def _nth_value(self, n: int) -> float | None:
        """The sort key's n-th value in the order of the page (NaN rows included); None when
        the key has fewer than n rows."""
        col = latest_metrics.c.value
        stmt = (
            select(col)
            .where(latest_metrics.c.key == self.key)
            .order_by(col.asc() if self.ascending else col.desc())
            .offset(n - 1)
            .limit(1)
        )
        return self.conn.execute(stmt).scalar()

    def _count_range(self, key: str, op: str, value: float, cap: int) -> int:
        """Rows of ``latest_metrics`` with ``key`` and ``value op value``, counted up to ``cap``
        (an index-only range scan)."""
        lm = latest_metrics
        found = select(literal(1)).where(lm.c.key == key, _number_pred(lm.c.value, op, value))
        counted = select(func.count()).select_from(found.limit(cap).subquery())
        return int(self.conn.execute(counted).scalar_one())

    def _walk_pays(self, range_rows: int, wanted: int) -> bool:
        """Whether walking the sort order should read fewer rows than a filter range of
        ``range_rows`` holds: about ``wanted * T / range_rows`` for a sort key of T rows."""
        most = range_rows * range_rows // wanted  # the largest T for which it does
        lm = latest_metrics
        found = select(literal(1)).where(lm.c.key == self.key).limit(most + 1)
        counted = select(func.count()).select_from(found.subquery())
        return int(self.conn.execute(counted).scalar_one()) <= most

    def _filter_driver(self) -> tuple[str, int] | None:
        """The filter's narrowest index range: (metric key, rows counted up to _DRIVE_MAX)."""
        if not self._driver_known:
            for key, op, value in self.ranges:
                cap = _DRIVE_MAX if self._driver is None else self._driver[1]
                n = self._count_range(key, op, value, cap)
                if self._driver is None or n < self._driver[1]:
                    self._driver = (key, n)
            self._driver_known = True
        return self._driver


# -- boolean structure --------------------------------------------------------------------------


def _compile(node: Node, leaf: Leaf, negated: bool) -> ColumnElement[bool]:
    """Compile with NOT pushed down to the leaves (De Morgan)."""
    if isinstance(node, Comparison):
        return leaf(node, negated)
    if isinstance(node, Not):
        return _compile(node.item, leaf, not negated)
    parts = [_compile(item, leaf, negated) for item in node.items]
    conjunction = isinstance(node, And) != negated
    return and_(*parts) if conjunction else or_(*parts)


def _conjuncts(node: Node, negated: bool) -> list[tuple[Node, bool]]:
    """The top-level AND terms of ``node`` (after pushing NOT down), each with its polarity."""
    if isinstance(node, Not):
        return _conjuncts(node.item, not negated)
    if (isinstance(node, And) and not negated) or (isinstance(node, Or) and negated):
        return [pair for item in node.items for pair in _conjuncts(item, negated)]
    return [(node, negated)]


# -- comparisons --------------------------------------------------------------------------------


def _text_pred(col: ColumnElement[Any], cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    """A string comparison; a NULL ``col`` makes it unknown either way."""
    op, value = cmp.op, cmp.value
    if op in ("LIKE", "ILIKE"):
        matched = like(col, str(value), ignore_case=op == "ILIKE")
        return not_(matched) if negated else matched
    op = _NEGATED[op] if negated else op
    col = exact(col)
    if op == "=":
        return col == value
    if op == "!=":
        return col != value
    if op == "IN":
        return col.in_(list(value))  # type: ignore[arg-type]
    return col.not_in(list(value))  # type: ignore[arg-type]


def _number_pred(col: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    # Typed binds: left to itself PostgreSQL would cast 10**10 to INTEGER and overflow.
    value = literal(value, BigInteger()) if isinstance(value, int) else literal(value, Double())
    return {
        "=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
        ">": col.__gt__, ">=": col.__ge__,
    }[op](value)  # fmt: skip


def _metric_value(table: FromClause, ident: Identifier) -> tuple[Any, ColumnElement[bool]]:
    """(value column, "is NaN" test) of a latest_metrics row for the identifier's aggregate."""
    if ident.aggregate in ("min", "max"):
        col = table.c[f"{ident.aggregate}_value"]
        return col, col.is_(None)  # NULL when every logged value was NaN
    return table.c.value, table.c.is_nan == true()


def _key_pred(table: FromClause, cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    """The test on one latest_metrics/params/tags row that already matches run and key."""
    if cmp.left.kind != "metric":
        if cmp.op in ("IS NULL", "IS NOT NULL"):  # only "IS NOT NULL" reaches here
            return table.c.value.is_not(None)
        return _text_pred(table.c.value, cmp, negated)
    col, is_nan = _metric_value(table, cmp.left)
    if cmp.op == "!=":  # NaN != x holds; NOT (NaN != x) does not
        value = literal(float(cmp.value), Double())  # type: ignore[arg-type]
        return and_(not_(is_nan), col == value) if negated else or_(is_nan, col != value)
    test = _number_pred(col, cmp.op, float(cmp.value))  # type: ignore[arg-type]
    return or_(is_nan, not_(test)) if negated else and_(not_(is_nan), test)


def _joinable(cmp: Comparison, negated: bool) -> bool:
    """True when the comparison holds only for runs that have a row for its key."""
    if cmp.left.kind not in _KEY_TABLES:
        return False
    op = _NEGATED[cmp.op] if negated and cmp.op.startswith("IS") else cmp.op
    return op != "IS NULL"


def _key_exists(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    ident = cmp.left
    table = _alias(_KEY_TABLES[ident.kind])
    row = and_(table.c.run_uuid == runs.c.run_uuid, table.c.key == ident.key)
    if cmp.op in ("IS NULL", "IS NOT NULL"):
        present = exists(select(1).where(row, table.c.value.is_not(None)).correlate(runs))
        return not_(present) if (cmp.op == "IS NULL") != negated else present
    return exists(select(1).where(row, _key_pred(table, cmp, negated)).correlate(runs))


def _dataset_exists(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    def inputs(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        ri, ds = _alias(run_inputs), _alias(datasets)
        field = {"name": ds.c.name, "digest": ds.c.digest, "context": DatasetContext(ri.c.tags)}
        col = field[cmp.left.key]
        found = select(1).select_from(ri.join(ds, ri.c.dataset_uuid == ds.c.dataset_uuid))
        where = [f(col) for f in conditions]
        return exists(found.where(ri.c.run_uuid == runs.c.run_uuid, *where).correlate(runs))

    if not negated:
        return inputs(lambda col: _text_pred(col, cmp, False))
    # The negation: the run has datasets and none matches (nor is unknown).
    return and_(inputs(), not_(inputs(lambda col: or_(col.is_(None), _text_pred(col, cmp, False)))))


def _run_leaf(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    kind = cmp.left.kind
    if kind == "attribute":
        return _column_pred(_RUN_COLUMNS[cmp.left.key], cmp, negated)
    if kind == "dataset":
        return _dataset_exists(cmp, negated)
    return _key_exists(cmp, negated)


def _column_pred(col: ColumnElement[Any], cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    if isinstance(cmp.value, (int, float)):
        op = _NEGATED[cmp.op] if negated else cmp.op
        return _number_pred(col, op, cmp.value)
    return _text_pred(col, cmp, negated)


def _experiment_leaf(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    if cmp.left.kind == "tag":
        table = _alias(experiment_tags)
        row = and_(
            table.c.experiment_id == experiments.c.experiment_id, table.c.key == cmp.left.key
        )
        if cmp.op in ("IS NULL", "IS NOT NULL"):
            present = exists(select(1).where(row, table.c.value.is_not(None)))
            present = present.correlate(experiments)
            return not_(present) if (cmp.op == "IS NULL") != negated else present
        test = _text_pred(table.c.value, cmp, negated)
        return exists(select(1).where(row, test).correlate(experiments))
    col = _EXPERIMENT_COLUMNS[cmp.left.key]
    if cmp.left.key == "experiment_id":
        # Ids travel as strings; compare as strings so "IN ('1', 'x')" just matches nothing for x.
        col = cast(col, String(32))
    return _column_pred(col, cmp, negated)


# -- ordering -----------------------------------------------------------------------------------


class _Joined:
    """One latest_metrics/params/tags row per run for a key, joined onto ``runs``."""

    def __init__(self, ident: Identifier, outer: bool) -> None:
        self.alias: Alias = _alias(_KEY_TABLES[ident.kind])
        self.outer = outer
        self.known: set[str] = set()  # aggregates the WHERE clause keeps free of NaN / NULL
        self.key = ident.key
        self.onclause = self.on(runs.c.run_uuid)

    def on(self, run_uuid: ColumnElement[Any]) -> ColumnElement[bool]:
        """The join condition, matching the run id in ``run_uuid``."""
        return and_(self.alias.c.run_uuid == run_uuid, self.alias.c.key == self.key)


def _by_key(joined: _Joined | None, ident: Identifier, asc: bool) -> list[Any]:
    """Real values first (in the direction asked), then NaN (metrics), then missing. Reads the
    joined row, or a correlated subquery when ``joined`` is None."""
    table = joined.alias if joined else _alias(_KEY_TABLES[ident.kind])
    if joined and (ident.aggregate or "last") in joined.known:
        # Only real values can reach the sort: a bare value order lets the planner walk
        # ix_latest_metrics_key_value in order and stop at the page's end.
        col = _metric_value(table, ident)[0] if ident.kind == "metric" else table.c.value
        return [col.asc() if asc else col.desc()]

    def read(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        if joined:
            return expr
        row = and_(table.c.run_uuid == runs.c.run_uuid, table.c.key == ident.key)
        return select(expr).where(row).correlate(runs).scalar_subquery()

    if ident.kind != "metric":  # a NULL tag value counts as missing
        return [missing_last(read(table.c.value), asc)]
    col, is_nan = _metric_value(table, ident)
    if joined:
        rank = case((table.c.run_uuid.is_(None), 2), (is_nan, 1), else_=0)
    else:
        rank = func.coalesce(read(case((is_nan, 1), else_=0)), 2)
    value = read(col)
    return [rank.asc(), value.asc() if asc else value.desc()]


def _by_column(col: ColumnElement[Any], asc: bool) -> list[Any]:
    """Order on a column with NULLs last in both directions.

    ``runs.start_time`` is always set (create_run requires it), so it is ordered plainly: that
    lets both backends walk ``ix_runs_experiment_stage_start`` for the default order and stop
    at the end of the page (PostgreSQL cannot walk it for ``DESC NULLS LAST``).
    """
    if col is runs.c.start_time or getattr(col, "nullable", True) is False:
        return [col.asc() if asc else col.desc()]
    return [missing_last(col, asc)]


def _run_tie_breakers(terms: list[OrderTerm]) -> list[Any]:
    names = {t.key.key for t in terms if t.key.kind == "attribute"}
    out: list[Any] = []
    if "start_time" not in names:
        out += _by_column(runs.c.start_time, asc=False)
    if "run_id" not in names:
        out.append(runs.c.run_uuid.asc())
    return out


__all__ = [
    "apply_run_search",
    "experiment_filter_clause",
    "experiment_order_clauses",
    "run_filter_clause",
    "run_order_clauses",
    "search_run_rows",
]
