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

How the SQL store should build a search (one page, newest first by default)::

    from mltrail.search import parse_run_filter, parse_run_order_by
    from mltrail.search.paging import decode_page_token, encode_page_token
    from mltrail.search.sql import apply_run_search

    node = parse_run_filter(filter_string)          # parse first: bad input fails before I/O
    terms = parse_run_order_by(order_by)
    offset = decode_page_token(page_token)
    ids = [int(i) for i in experiment_ids]
    stmt = select(runs).where(runs.c.experiment_id.in_(ids))
    if view_type != ViewType.ALL:                   # leave the stage out for ALL: index-friendly
        stage = "active" if view_type == ViewType.ACTIVE_ONLY else "deleted"
        stmt = stmt.where(runs.c.lifecycle_stage == stage)
    stmt = apply_run_search(stmt, node, terms).offset(offset).limit(max_results + 1)
    rows = conn.execute(stmt).all()
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None

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

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Alias, FromClause

from mltrail.search.ast import And, Comparison, Identifier, Node, Not, Or, OrderTerm
from mltrail.search.patterns import DatasetContext, Double, exact, like, missing_last
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
    joins: dict[tuple[str, str], _Joined] = {}
    where: list[ColumnElement[bool]] = []
    # When the page is in start_time order, walking the runs index and testing each run with
    # EXISTS stops at the end of the page; a join would tempt SQLite (which has no range
    # statistics) to gather and sort every match first, ten times slower for broad filters.
    by_start = not terms or terms[0].key == Identifier("attribute", "start_time")
    for item, negated in _conjuncts(node, False) if node is not None else []:
        if not by_start and isinstance(item, Comparison) and _joinable(item, negated):
            ident = item.left
            joined = joins.setdefault((ident.kind, ident.key), _Joined(ident, outer=False))
            where.append(_key_pred(joined.alias, item, negated))
            if ident.kind != "metric" or (item.op == "!=") == negated:
                joined.known.add(ident.aggregate or "last")  # no NaN / NULL can pass
        else:
            where.append(_compile(item, _run_leaf, negated))
    order: list[ColumnElement[Any]] = []
    for term in terms:
        ident = term.key
        if ident.kind == "attribute":
            order += _by_column(_RUN_COLUMNS[ident.key], term.ascending)
        else:
            joined = joins.setdefault((ident.kind, ident.key), _Joined(ident, outer=True))
            order += _by_key(joined, ident, term.ascending)
    # Inner joins first: SQLite keeps tables after a LEFT JOIN in written order.
    for joined in sorted(joins.values(), key=lambda j: j.outer):
        stmt = stmt.join_from(runs, joined.alias, joined.onclause, isouter=joined.outer)
    return stmt.where(*where).order_by(*order, *_run_tie_breakers(terms))


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
    table = _KEY_TABLES[ident.kind].alias()
    row = and_(table.c.run_uuid == runs.c.run_uuid, table.c.key == ident.key)
    if cmp.op in ("IS NULL", "IS NOT NULL"):
        present = exists(select(1).where(row, table.c.value.is_not(None)).correlate(runs))
        return not_(present) if (cmp.op == "IS NULL") != negated else present
    return exists(select(1).where(row, _key_pred(table, cmp, negated)).correlate(runs))


def _dataset_exists(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    def inputs(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        ri, ds = run_inputs.alias(), datasets.alias()
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
        table = experiment_tags.alias()
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
        self.alias: Alias = _KEY_TABLES[ident.kind].alias()
        self.outer = outer
        self.known: set[str] = set()  # aggregates the WHERE clause keeps free of NaN / NULL
        self.onclause = and_(
            self.alias.c.run_uuid == runs.c.run_uuid, self.alias.c.key == ident.key
        )


def _by_key(joined: _Joined | None, ident: Identifier, asc: bool) -> list[Any]:
    """Real values first (in the direction asked), then NaN (metrics), then missing. Reads the
    joined row, or a correlated subquery when ``joined`` is None."""
    table = joined.alias if joined else _KEY_TABLES[ident.kind].alias()
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
]
