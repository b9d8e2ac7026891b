"""Portable SQL pieces the search compiler needs but SQLAlchemy does not spell the same way on
every backend: case-sensitive LIKE and ``=``, NULLs-last ordering, float binds MySQL accepts,
reading the dataset context out of a JSON column, and joins SQLite must not reorder.

LIKE patterns use ``%`` and ``_``; a backslash makes the next character literal (``'a\\_b'``),
as PostgreSQL's default does, on every backend.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import Any

from sqlalchemy import Boolean, Dialect, Float, String, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import FromClause, Join
from sqlalchemy.types import TypeDecorator

_ESCAPE = "!"  # our escape inside LIKE; "\\" would need quoting rules that differ by backend
CONTEXT_TAG = "mlflow.data.context"


def _pieces(pattern: str) -> list[str]:
    """Split a LIKE pattern into wildcards (``%``/``_``) and 2-char ``\\x`` literal pieces."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append("\\" + pattern[i + 1])
            i += 2
        else:
            out.append(ch if ch in "%_" else "\\" + ch)
            i += 1
    return out


def to_like(pattern: str) -> str:
    """The pattern for ``LIKE ... ESCAPE '!'``."""
    out = []
    for piece in _pieces(pattern):
        if piece in ("%", "_"):
            out.append(piece)
        else:
            ch = piece[1]
            out.append(_ESCAPE + ch if ch in "%_" + _ESCAPE else ch)
    return "".join(out)


def to_glob(pattern: str) -> str:
    """The same pattern for SQLite's case-sensitive ``GLOB``."""
    out = []
    for piece in _pieces(pattern):
        if piece in ("%", "_"):
            out.append("*" if piece == "%" else "?")
        else:
            ch = piece[1]
            out.append(f"[{ch}]" if ch in "*?[" else ch)
    return "".join(out)


class _CaseSensitiveLike(FunctionElement[bool]):
    """``value LIKE pattern``, case-sensitive everywhere (SQLite's LIKE ignores ASCII case)."""

    type = Boolean()
    inherit_cache = True
    name = "cs_like"


@compiles(_CaseSensitiveLike)
def _like_default(element: _CaseSensitiveLike, compiler: Any, **kw: Any) -> str:
    value, like, _ = element.clauses
    return f"({compiler.process(value, **kw)} LIKE {compiler.process(like, **kw)} ESCAPE '!')"


@compiles(_CaseSensitiveLike, "mysql")
def _like_mysql(element: _CaseSensitiveLike, compiler: Any, **kw: Any) -> str:
    value, like, _ = element.clauses
    return (
        f"({compiler.process(value, **kw)} LIKE BINARY {compiler.process(like, **kw)} ESCAPE '!')"
    )


@compiles(_CaseSensitiveLike, "sqlite")
def _like_sqlite(element: _CaseSensitiveLike, compiler: Any, **kw: Any) -> str:
    value, _, glob = element.clauses
    return f"({compiler.process(value, **kw)} GLOB {compiler.process(glob, **kw)})"


def like(value: ColumnElement[Any], pattern: str, ignore_case: bool = False) -> ColumnElement[bool]:
    """``value LIKE pattern`` (case-sensitive), or ILIKE through lower() on both sides."""
    like_p = literal(to_like(pattern), String())
    glob_p = literal(to_glob(pattern), String())
    if ignore_case:
        # lower() in SQL on both sides, so both use the same (backend's) idea of case.
        return _CaseSensitiveLike(func.lower(value), func.lower(like_p), func.lower(glob_p))
    return _CaseSensitiveLike(value, like_p, glob_p)


class DatasetContext(FunctionElement[str]):
    """The ``mlflow.data.context`` entry of a run input's JSON ``tags`` object, as text."""

    type = String()
    inherit_cache = True
    name = "dataset_context"


@compiles(DatasetContext)
def _context_default(element: DatasetContext, compiler: Any, **kw: Any) -> str:
    (col,) = element.clauses
    return f"(CAST({compiler.process(col, **kw)} AS JSON) ->> '{CONTEXT_TAG}')"


@compiles(DatasetContext, "sqlite")
def _context_sqlite(element: DatasetContext, compiler: Any, **kw: Any) -> str:
    (col,) = element.clauses
    return f"json_extract({compiler.process(col, **kw)}, '$.\"{CONTEXT_TAG}\"')"


@compiles(DatasetContext, "mysql")
def _context_mysql(element: DatasetContext, compiler: Any, **kw: Any) -> str:
    (col,) = element.clauses
    return f"JSON_UNQUOTE(JSON_EXTRACT({compiler.process(col, **kw)}, '$.\"{CONTEXT_TAG}\"'))"


class _MissingLast(FunctionElement[Any]):
    """An ORDER BY item that puts NULLs last whichever the direction (the backends disagree:
    SQLite sorts NULL first, PostgreSQL last). Written ``NULLS LAST`` where the backend has it,
    so SQLite can still walk an index for ``start_time DESC``."""

    inherit_cache = True
    name = "missing_last"
    direction = "ASC"


class _MissingLastDesc(_MissingLast):
    inherit_cache = True
    direction = "DESC"


@compiles(_MissingLast)
def _missing_last_default(element: _MissingLast, compiler: Any, **kw: Any) -> str:
    (col,) = element.clauses
    return f"{compiler.process(col, **kw)} {element.direction} NULLS LAST"


@compiles(_MissingLast, "mysql")
def _missing_last_mysql(element: _MissingLast, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses.clauses[0], **kw)
    return f"{col} IS NULL, {col} {element.direction}"


def missing_last(col: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    """``col ASC|DESC`` with NULLs after every value, on every backend."""
    return _MissingLast(col) if ascending else _MissingLastDesc(col)


class _Exact(FunctionElement[str]):
    """A text column compared byte for byte: MySQL's default collations ignore case."""

    type = String()
    inherit_cache = True
    name = "exact"


@compiles(_Exact)
def _exact_default(element: _Exact, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[0], **kw))


@compiles(_Exact, "mysql")
def _exact_mysql(element: _Exact, compiler: Any, **kw: Any) -> str:
    return f"BINARY {compiler.process(element.clauses.clauses[0], **kw)}"


def exact(col: ColumnElement[Any]) -> ColumnElement[str]:
    """``col`` for a case-sensitive ``=``, ``!=`` or ``IN`` (plain SQL except on MySQL)."""
    return _Exact(col)


class Double(TypeDecorator[float]):
    """A float bind; MySQL stores no infinity (it keeps the largest double instead), so an
    infinite bound is clamped to match there."""

    impl = Float(53)
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: Dialect) -> float | None:
        if value is not None and dialect.name == "mysql" and math.isinf(value):
            return math.copysign(sys.float_info.max, value)
        return value


class StraightJoin(Join):
    """An inner join whose left side SQLite must read first: ``CROSS JOIN ... ON`` there (its
    planner never reorders around a CROSS JOIN), a plain ``JOIN`` everywhere else.

    SQLite keeps no statistics on value ranges, so it may drive a search from the wrong table
    (gather every match of a broad filter, then sort them all); the caller, which has counted,
    picks the order instead."""

    inherit_cache = True


def straight_join(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> Join:
    return StraightJoin(left, right, onclause)


def _original(item: Any) -> Any:
    while getattr(item, "_is_clone_of", None) is not None:
        item = item._is_clone_of
    return item


@compiles(StraightJoin, "sqlite")
def _straight_join_sqlite(element: StraightJoin, compiler: Any, **kw: Any) -> str:
    kw.pop("asfrom", None)
    linter = kw.get("from_linter")
    if linter:  # what SQLAlchemy's own JOIN does, so no "cartesian product" warning
        linter.edges.update(
            itertools.product(
                map(_original, element.left._from_objects),
                map(_original, element.right._from_objects),
            )
        )
    left = compiler.process(element.left, asfrom=True, **kw)
    right = compiler.process(element.right, asfrom=True, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(element.onclause, **kw)}"
