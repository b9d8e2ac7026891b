"""Run counts and last activity per experiment, for the experiments list and run pages.

SQL stores count with one grouped query; other stores page through at most 1000 runs (the
count then reads "1000+").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    counted = store.count_runs(ids)
    sql_backed = hasattr(store, "engine")  # the default count stops at FALLBACK_CAP runs
    return {
        i: ExperimentStats(n, capped=not sql_backed and n >= FALLBACK_CAP, last_start=last)
        for i, (n, last) in counted.items()
    }
