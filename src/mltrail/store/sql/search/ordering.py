"""ORDER BY items of run searches: by a run column, or by a metric, param or tag read from a
joined row (``Joined``) or a correlated subquery; missing values last, NaN metrics between the
real values and the missing ones; and the tie-breakers that make every order total."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Alias

from mltrail.search.ast import Identifier, OrderTerm
from mltrail.search.patterns import missing_last
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search.aliases import alias
from mltrail.store.sql.search.filters import KEY_TABLES, metric_value


class Joined:
    """One latest_metrics/params/tags row per run for a key, joined onto ``runs``."""

    def __init__(self, ident: Identifier, outer: bool) -> None:
        self.alias: Alias = alias(KEY_TABLES[ident.kind])
        self.outer = outer
        self.known: set[str] = set()  # aggregates the WHERE clause keeps free of NaN / NULL
        self.key = ident.key
        self.onclause = self.on(runs.c.run_uuid)

    def on(self, run_uuid: ColumnElement[Any]) -> ColumnElement[bool]:
        """The join condition, matching the run id in ``run_uuid``."""
        return and_(self.alias.c.run_uuid == run_uuid, self.alias.c.key == self.key)


def by_key(joined: Joined | None, ident: Identifier, asc: bool) -> list[Any]:
    """Real values first (in the direction asked), then NaN (metrics), then missing. Reads the
    joined row, or a correlated subquery when ``joined`` is None."""
    table = joined.alias if joined else alias(KEY_TABLES[ident.kind])
    if joined and (ident.aggregate or "last") in joined.known:
        # Only real values can reach the sort: a bare value order lets the planner walk
        # ix_latest_metrics_key_value in order and stop at the page's end.
        col = metric_value(table, ident)[0] if ident.kind == "metric" else table.c.value
        return [col.asc() if asc else col.desc()]

    def read(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        if joined:
            return expr
        row = and_(table.c.run_uuid == runs.c.run_uuid, table.c.key == ident.key)
        return select(expr).where(row).correlate(runs).scalar_subquery()

    if ident.kind != "metric":  # a NULL tag value counts as missing
        return [missing_last(read(table.c.value), asc)]
    col, is_nan = metric_value(table, ident)
    rank: ColumnElement[Any]
    if joined:
        rank = case((table.c.run_uuid.is_(None), 2), (is_nan, 1), else_=0)
    else:
        rank = func.coalesce(read(case((is_nan, 1), else_=0)), 2)
    value = read(col)
    return [rank.asc(), value.asc() if asc else value.desc()]


def by_column(col: ColumnElement[Any], asc: bool) -> list[Any]:
    """Order on a column with NULLs last in both directions.

    ``runs.start_time`` is always set (create_run requires it), so it is ordered plainly: that
    lets both backends walk ``ix_runs_experiment_stage_start`` for the default order and stop
    at the end of the page (PostgreSQL cannot walk it for ``DESC NULLS LAST``).
    """
    if col is runs.c.start_time or getattr(col, "nullable", True) is False:
        return [col.asc() if asc else col.desc()]
    return [missing_last(col, asc)]


def run_tie_breakers(terms: list[OrderTerm]) -> list[Any]:
    """``start_time DESC`` then ``run_uuid``, each unless the terms already order by it."""
    names = {t.key.key for t in terms if t.key.kind == "attribute"}
    out: list[Any] = []
    if "start_time" not in names:
        out += by_column(runs.c.start_time, asc=False)
    if "run_id" not in names:
        out.append(runs.c.run_uuid.asc())
    return out
