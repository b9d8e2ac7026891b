"""Arranging a page of runs: nested runs under their parents, or groups by a column."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from mltrail.entities import Run
from mltrail.server.ui.columns import Column, raw_value
from mltrail.server.ui.common import PARENT_TAG


def nest(runs: list[Run]) -> list[tuple[Run, int, int]]:
    """``(run, depth, number of children on the page)`` with each child right after its
    parent (any depth), keeping the page's order among siblings. A child whose parent is not
    on the page stays at the top level."""
    on_page = {r.info.run_id for r in runs}
    children: dict[str, list[Run]] = {}
    roots: list[Run] = []
    for run in runs:
        parent = run.data.tags.get(PARENT_TAG)
        if parent and parent in on_page and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            roots.append(run)
    ordered: list[tuple[Run, int, int]] = []
    seen: set[str] = set()

    def visit(run: Run, depth: int) -> None:
        if run.info.run_id in seen:  # a cycle of parent tags: show each run once
            return
        seen.add(run.info.run_id)
        kids = children.get(run.info.run_id, [])
        ordered.append((run, depth, len(kids)))
        for kid in kids:
            visit(kid, depth + 1)

    for root in roots:
        visit(root, 0)
    for run in runs:  # runs caught in a cycle have no root; show them flat
        if run.info.run_id not in seen:
            visit(run, 0)
    return ordered


def sort_within_page(runs: list[Run], column: Column, descending: bool) -> list[Run]:
    """Sort by a column the store cannot sort on; runs without a value go last."""
    with_value = [r for r in runs if raw_value(r, column) is not None]
    without = [r for r in runs if raw_value(r, column) is None]
    with_value.sort(key=lambda r: raw_value(r, column), reverse=descending)
    return with_value + without


def group(
    runs: list[Run],
    by: Column,
    metric_columns: list[Column],
    render_row: Callable[[Run, int, int], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Groups of runs sharing a value of ``by``, in order of first appearance, each with the
    mean of every metric column over its runs."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        value = raw_value(run, by)
        groups.setdefault("" if value is None else str(value), []).append(run)
    result = []
    for value, members in groups.items():
        means: dict[str, float | None] = {}
        for column in metric_columns:
            values = [v for v in (raw_value(r, column) for r in members) if v is not None]
            means[column.id] = statistics.fmean(values) if values else None
        result.append(
            {
                "value": value,
                "count": len(members),
                "means": means,
                "rows": [render_row(r, 0, 0) for r in members],
            }
        )
    return result
