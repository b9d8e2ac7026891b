"""Aliases of the key tables (``latest_metrics``, ``params``, ``tags``...) for search SQL.

Each alias builds its column collection on first use, which cost more than running a small
search. Whole searches (``apply_run_search``, ``search_run_rows``) therefore take their aliases
from a fixed pool, distinct within one call (``pooled_aliases``); loose clauses get fresh ones,
since a caller may put two of them in one statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from mltrail.store.sql.schema import (
    datasets,
    experiment_tags,
    latest_metrics,
    params,
    run_inputs,
    tags,
)

_POOL_SIZE = 24
_alias_pool: dict[str, list[Any]] = {
    table.name: [table.alias(f"{table.name}_{i}") for i in range(_POOL_SIZE)]
    for table in (latest_metrics, params, tags, run_inputs, datasets, experiment_tags)
}
_alias_counts: ContextVar[dict[str, int] | None] = ContextVar("_alias_counts", default=None)


@contextmanager
def pooled_aliases() -> Iterator[None]:
    """Within this block, ``alias`` hands out pooled aliases (each once)."""
    if _alias_counts.get() is not None:  # already inside a whole search
        yield
        return
    token = _alias_counts.set({})
    try:
        yield
    finally:
        _alias_counts.reset(token)


def alias(table: Any) -> Any:
    """An alias of ``table`` not used yet in this search: a pooled one inside
    ``pooled_aliases``, a fresh one outside."""
    counts = _alias_counts.get()
    if counts is None:
        return table.alias()
    n = counts.get(table.name, 0)
    counts[table.name] = n + 1
    pool = _alias_pool[table.name]
    return pool[n] if n < len(pool) else table.alias()
