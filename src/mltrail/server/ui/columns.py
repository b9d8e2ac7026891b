"""Columns of the runs table: ids as they appear in URLs, labels, how each one sorts, and
the value each shows for a run.

A column id is either a fixed attribute (``name``, ``status``, ``start_time``, ``duration``,
``user``, ``source``) or ``metrics.<key>``, ``params.<key>``, ``tags.<key>``; keys may contain
dots, so only the first dot separates the kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mltrail.entities import Run
from mltrail.server.ui.common import SOURCE_TAG, finite, short_source

ATTRIBUTES: dict[str, tuple[str, str | None]] = {
    # id -> (label, order_by field; None when the store cannot sort on it)
    "name": ("Run name", "attributes.run_name"),
    "status": ("Status", "attributes.status"),
    "start_time": ("Started", "attributes.start_time"),
    "duration": ("Duration", None),
    "user": ("User", "attributes.user_id"),
    "source": ("Source", f"tags.`{SOURCE_TAG}`"),
}
KINDS = ("metrics", "params", "tags")
DEFAULT_PER_KIND = 6


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    kind: str  # "attribute", "metrics", "params" or "tags"
    key: str

    @property
    def label(self) -> str:
        return ATTRIBUTES[self.key][0] if self.kind == "attribute" else self.key

    @property
    def order_field(self) -> str | None:
        """The search-language field to sort on, or None (sorted within the page)."""
        if self.kind == "attribute":
            return ATTRIBUTES[self.key][1]
        return f"{self.kind}.`{self.key.replace('`', '``')}`"

    @property
    def numeric(self) -> bool:
        return self.kind == "metrics" or self.key in ("start_time", "duration")


def parse_column(column_id: str) -> Column | None:
    """The column for an id from a URL, or None for anything unknown."""
    if column_id in ATTRIBUTES:
        return Column(column_id, "attribute", column_id)
    kind, dot, key = column_id.partition(".")
    if dot and key and kind in KINDS:
        return Column(column_id, kind, key)
    return None


def column_id(kind: str, key: str) -> str:
    return f"{kind}.{key}"


def default_columns(runs: list[Run]) -> list[Column]:
    """With no choice in the URL: the first few metrics and params seen on the page."""
    keys = available_keys(runs)
    chosen = [column_id("metrics", k) for k in keys["metrics"][:DEFAULT_PER_KIND]]
    chosen += [column_id("params", k) for k in keys["params"][:DEFAULT_PER_KIND]]
    return [c for c in map(parse_column, chosen) if c is not None]


def available_keys(runs: list[Run]) -> dict[str, list[str]]:
    """Metric, param and tag keys present on a page of runs (system tags left out)."""
    metrics: set[str] = set()
    params: set[str] = set()
    tags: set[str] = set()
    for run in runs:
        metrics.update(run.data.metrics)
        params.update(run.data.params)
        tags.update(k for k in run.data.tags if not k.startswith("mlflow."))
    return {"metrics": sorted(metrics), "params": sorted(params), "tags": sorted(tags)}


def raw_value(run: Run, column: Column) -> Any:
    """The value a run has in a column (None when it has none), for sorting and grouping."""
    info = run.info
    if column.kind == "metrics":
        return finite(run.data.metrics.get(column.key))
    if column.kind == "params":
        return run.data.params.get(column.key)
    if column.kind == "tags":
        return run.data.tags.get(column.key)
    if column.key == "name":
        return info.run_name
    if column.key == "status":
        return info.status
    if column.key == "start_time":
        return info.start_time
    if column.key == "duration":
        if info.start_time is None or info.end_time is None:
            return None
        return info.end_time - info.start_time
    if column.key == "user":
        return info.user_id
    return short_source(run.data.tags.get(SOURCE_TAG, ""))
