"""A page of runs ordered by a metric's latest value, read in passes (``ByMetric``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, exists, false, func, literal, not_, select, true

from mltrail.search.ast import Identifier, Node, OrderTerm
from mltrail.search.patterns import Double
from mltrail.store.sql.schema import latest_metrics, runs
from mltrail.store.sql.search.aliases import alias
from mltrail.store.sql.search.filters import number_pred
from mltrail.store.sql.search.ordering import Joined, by_key, run_tie_breakers
from mltrail.store.sql.search.statement import Search, one_statement, starts_with_start_time

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

# The SQLite plan choices of ByMetric (see there), in rows of latest_metrics indexes.
_WALK_FACTOR = 10  # the sort order's walk reads at most this many rows per row wanted...
_WALK_MAX = 20_000  # ...and never more than this (deeper pages: one statement, sorted)
_DRIVE_MAX = 20_000  # a filter range with fewer rows than this may drive the search
_NAN_VALUE = 0.0  # the value stored beside is_nan (see schema): lets an index find NaN rows


class ByMetric:
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
        probe = Search(node, by_start=False)
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
                stmt = one_statement(self.stmt, self.node, self.terms)
                return list(self.conn.execute(stmt.offset(offset).limit(limit)).all())
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
        return list(self.conn.execute(stmt.offset(skip).limit(need)).all())

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
        by_start = which == "missing" and first is None and starts_with_start_time(self.rest)
        search = Search(self.node, by_start)
        order: list[Any] = []
        if which == "missing":
            lm = alias(latest_metrics)
            row = and_(lm.c.run_uuid == runs.c.run_uuid, lm.c.key == self.key)
            search.where.append(not_(exists(select(1).where(row).correlate(runs))))
        else:
            sort = search.joins.setdefault(("metric", self.key), Joined(self.ident, outer=False))
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
                order = by_key(sort, self.ident, self.ascending)
        order += search.order(self.rest) + run_tie_breakers(self.rest)
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
        found = select(literal(1)).where(lm.c.key == key, number_pred(lm.c.value, op, value))
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
