"""Run counts and last activity per experiment, for the experiments list and run pages.

The tracking store contract has no count; for SQL stores one grouped query over the runs
table answers for every experiment at once. Other stores fall back to paging through runs,
capped so that a page never waits on a huge experiment (the count then reads "1000+").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mltrail.entities import LifecycleStage
from mltrail.store.base import TrackingStore

FALLBACK_CAP = 1000


@dataclass(frozen=True, slots=True)
class ExperimentStats:
    runs: int
    capped: bool = False
    last_start: int | None = None

    @property
    def label(self) -> str:
        return f"{self.runs:,}+" if self.capped else f"{self.runs:,}"


def experiment_stats(
    store: TrackingStore, experiment_ids: Sequence[str]
) -> dict[str, ExperimentStats]:
    """Active runs and the newest run start of each experiment."""
    ids = [i for i in experiment_ids if i.isdigit()]
    if not ids:
        return {}
    engine = getattr(store, "engine", None)
    if engine is not None:
        return _sql_stats(engine, ids)
    return {i: _paged_stats(store, i) for i in ids}


def _sql_stats(engine: object, ids: list[str]) -> dict[str, ExperimentStats]:
    import sqlalchemy as sa

    from mltrail.store.sql.schema import runs

    query = (
        sa.select(runs.c.experiment_id, sa.func.count(), sa.func.max(runs.c.start_time))
        .where(
            runs.c.experiment_id.in_([int(i) for i in ids]),
            runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
        )
        .group_by(runs.c.experiment_id)
    )
    with engine.connect() as conn:  # type: ignore[attr-defined]
        found = {str(e): ExperimentStats(n, False, last) for e, n, last in conn.execute(query)}
    return {i: found.get(i, ExperimentStats(0)) for i in ids}


def _paged_stats(store: TrackingStore, experiment_id: str) -> ExperimentStats:
    page = store.search_runs(
        [experiment_id], max_results=FALLBACK_CAP, order_by=["start_time DESC"]
    )
    last = page[0].info.start_time if page else None
    return ExperimentStats(len(page), capped=page.token is not None, last_start=last)
