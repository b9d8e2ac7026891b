"""Compiling filter trees to SQL conditions: the boolean structure (``NOT`` pushed down to the
comparisons) and each comparison on a run attribute, a metric, param or tag, a dataset, or an
experiment field. The semantics are those of the ``mltrail.store.sql.search`` docstring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, String, and_, cast, exists, literal, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from mltrail.search.ast import And, Comparison, Identifier, Node, Not, Or
from mltrail.search.patterns import DatasetContext, Double, exact, like
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
from mltrail.store.sql.search.aliases import alias

RUN_ATTRIBUTES = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}
EXPERIMENT_ATTRIBUTES = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}
KEY_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}
NEGATED = {
    "=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "IN": "NOT IN",
    "NOT IN": "IN", "IS NULL": "IS NOT NULL", "IS NOT NULL": "IS NULL",
}  # fmt: skip

# Compiles one comparison, plain or negated.
Leaf = Callable[[Comparison, bool], ColumnElement[bool]]


def compile_filter(node: Node, leaf: Leaf, negated: bool) -> ColumnElement[bool]:
    """Compile with NOT pushed down to the leaves (De Morgan)."""
    if isinstance(node, Comparison):
        return leaf(node, negated)
    if isinstance(node, Not):
        return compile_filter(node.item, leaf, not negated)
    parts = [compile_filter(item, leaf, negated) for item in node.items]
    conjunction = isinstance(node, And) != negated
    return and_(*parts) if conjunction else or_(*parts)


def conjuncts(node: Node, negated: bool) -> list[tuple[Node, bool]]:
    """The top-level AND terms of ``node`` (after pushing NOT down), each with its polarity."""
    if isinstance(node, Not):
        return conjuncts(node.item, not negated)
    if (isinstance(node, And) and not negated) or (isinstance(node, Or) and negated):
        return [pair for item in node.items for pair in conjuncts(item, negated)]
    return [(node, negated)]


def two_valued(leaf: Callable[[Comparison], ColumnElement[bool]]) -> Leaf:
    """A ``Leaf`` for comparisons that are never unknown (EXISTS tests, columns that cannot be
    NULL or are read through COALESCE): the negated form is the plain complement."""

    def compiled(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
        found = leaf(cmp)
        return not_(found) if negated else found

    return compiled


def key_exists(
    row: ColumnElement[bool],
    value: ColumnElement[Any],
    cmp: Comparison,
    negated: bool = False,
    owner: FromClause | None = None,
) -> ColumnElement[bool]:
    """A test on an owner's key-value row (a tag or param; ``row`` matches owner and key):
    ``IS NULL`` holds when there is no such row (or its value is NULL), ``IS NOT NULL`` when
    there is; any other comparison when the row's value passes it as text. ``owner`` is the
    table the subquery correlates to, when the enclosing select has more than one."""

    def found(test: ColumnElement[bool]) -> ColumnElement[bool]:
        query = select(1).where(row, test)
        return exists(query if owner is None else query.correlate(owner))

    if cmp.op in ("IS NULL", "IS NOT NULL"):
        present = found(value.is_not(None))
        return not_(present) if (cmp.op == "IS NULL") != negated else present
    return found(_text_pred(value, cmp, negated))


# -- comparisons --------------------------------------------------------------------------------


def _text_pred(col: ColumnElement[Any], cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    """A string comparison; a NULL ``col`` makes it unknown either way."""
    if cmp.op in ("LIKE", "ILIKE") and negated:
        return not_(text_pred(col, cmp.op, cmp.value))
    return text_pred(col, NEGATED[cmp.op] if negated else cmp.op, cmp.value)


def text_pred(col: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    """``col op value`` on text: exact (case- and trailing-space-sensitive on every backend)
    for ``=``, ``!=``, ``IN`` and ``NOT IN``; ``LIKE`` and ``ILIKE`` as ``search.patterns``."""
    if op in ("LIKE", "ILIKE"):
        return like(col, str(value), ignore_case=op == "ILIKE")
    col = exact(col)
    if op in ("=", "!="):
        same: ColumnElement[bool] = col == value if op == "=" else col != value
        return same
    values: list[Any] = list(value)
    return col.in_(values) if op == "IN" else col.not_in(values)


def number_pred(col: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    # Typed binds: left to itself PostgreSQL would cast 10**10 to INTEGER and overflow.
    value = literal(value, BigInteger()) if isinstance(value, int) else literal(value, Double())
    return {
        "=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
        ">": col.__gt__, ">=": col.__ge__,
    }[op](value)  # fmt: skip


def metric_value(table: FromClause, ident: Identifier) -> tuple[Any, ColumnElement[bool]]:
    """(value column, "is NaN" test) of a latest_metrics row for the identifier's aggregate."""
    if ident.aggregate in ("min", "max"):
        col = table.c[f"{ident.aggregate}_value"]
        return col, col.is_(None)  # NULL when every logged value was NaN
    return table.c.value, table.c.is_nan == true()


def key_pred(table: FromClause, cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    """The test on one latest_metrics/params/tags row that already matches run and key."""
    if cmp.left.kind != "metric":
        if cmp.op in ("IS NULL", "IS NOT NULL"):  # only "IS NOT NULL" reaches here
            return table.c.value.is_not(None)
        return _text_pred(table.c.value, cmp, negated)
    col, is_nan = metric_value(table, cmp.left)
    if cmp.op == "!=":  # NaN != x holds; NOT (NaN != x) does not
        value = literal(float(cmp.value), Double())  # type: ignore[arg-type]
        return and_(not_(is_nan), col == value) if negated else or_(is_nan, col != value)
    test = number_pred(col, cmp.op, float(cmp.value))  # type: ignore[arg-type]
    return or_(is_nan, not_(test)) if negated else and_(not_(is_nan), test)


def joinable(cmp: Comparison, negated: bool) -> bool:
    """True when the comparison holds only for runs that have a row for its key."""
    if cmp.left.kind not in KEY_TABLES:
        return False
    op = NEGATED[cmp.op] if negated and cmp.op.startswith("IS") else cmp.op
    return op != "IS NULL"


def _key_exists(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    ident = cmp.left
    table = alias(KEY_TABLES[ident.kind])
    row = and_(table.c.run_uuid == runs.c.run_uuid, table.c.key == ident.key)
    if ident.kind != "metric" or cmp.op in ("IS NULL", "IS NOT NULL"):
        return key_exists(row, table.c.value, cmp, negated, runs)
    return exists(select(1).where(row, key_pred(table, cmp, negated)).correlate(runs))


def _dataset_exists(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    def inputs(*conditions: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
        ri, ds = alias(run_inputs), alias(datasets)
        field = {"name": ds.c.name, "digest": ds.c.digest, "context": DatasetContext(ri.c.tags)}
        col = field[cmp.left.key]
        found = select(1).select_from(ri.join(ds, ri.c.dataset_uuid == ds.c.dataset_uuid))
        where = [f(col) for f in conditions]
        return exists(found.where(ri.c.run_uuid == runs.c.run_uuid, *where).correlate(runs))

    if not negated:
        return inputs(lambda col: _text_pred(col, cmp, False))
    # The negation: the run has datasets and none matches (nor is unknown).
    return and_(inputs(), not_(inputs(lambda col: or_(col.is_(None), _text_pred(col, cmp, False)))))


def run_leaf(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    kind = cmp.left.kind
    if kind == "attribute":
        return _column_pred(RUN_ATTRIBUTES[cmp.left.key], cmp, negated)
    if kind == "dataset":
        return _dataset_exists(cmp, negated)
    return _key_exists(cmp, negated)


def _column_pred(col: ColumnElement[Any], cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    if isinstance(cmp.value, (int, float)):
        op = NEGATED[cmp.op] if negated else cmp.op
        return number_pred(col, op, cmp.value)
    return _text_pred(col, cmp, negated)


def experiment_leaf(cmp: Comparison, negated: bool) -> ColumnElement[bool]:
    if cmp.left.kind == "tag":
        table = alias(experiment_tags)
        row = and_(
            table.c.experiment_id == experiments.c.experiment_id, table.c.key == cmp.left.key
        )
        return key_exists(row, table.c.value, cmp, negated, experiments)
    col: ColumnElement[Any] = EXPERIMENT_ATTRIBUTES[cmp.left.key]
    if cmp.left.key == "experiment_id":
        # Ids travel as strings; compare as strings so "IN ('1', 'x')" just matches nothing for x.
        col = cast(col, String(32))
    return _column_pred(col, cmp, negated)
