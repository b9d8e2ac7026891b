"""Metric histories in the SQL store: whole, paged, sampled over many runs, downsampled.

Points are written with their run's batches (``runs.Runs``); this part only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from mltrail.entities import Metric, PagedList
from mltrail.exceptions import InvalidParameter
from mltrail.search import paging
from mltrail.store.base import check_max_points
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql.context import StoreContext
from mltrail.store.sql.downsample import downsampled_history


class Metrics:
    """The metric histories of a ``SqlStore``'s runs."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        if max_results is not None and max_results <= 0:
            raise InvalidParameter(
                f"Invalid value {max_results} for parameter 'max_results': it must be positive."
            )
        offset = paging.decode_page_token(page_token)
        with self.ctx.reading() as conn:
            self.ctx.run_row(conn, run_id)
            limit = None if max_results is None else max_results + 1
            points = metric_io.history(conn, run_id, metric_key, offset, limit)
        if max_results is not None and len(points) > max_results:
            return PagedList(points[:max_results], paging.encode_page_token(offset + max_results))
        return PagedList(points)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        if not run_ids or len(run_ids) > 100:
            raise InvalidParameter("Give between 1 and 100 run ids.")
        if not 1 <= max_results <= 2500:
            raise InvalidParameter("max_results must be between 1 and 2500.")
        if (start_step is None) != (end_step is None):
            raise InvalidParameter("Give both start_step and end_step, or neither.")
        if start_step is not None and end_step is not None and start_step > end_step:
            raise InvalidParameter("start_step must not be greater than end_step.")
        points: list[Metric] = []
        with self.ctx.reading() as conn:
            for run_id in sorted(set(run_ids)):
                self.ctx.run_row(conn, run_id)
                points.extend(
                    metric_io.sampled_history(
                        conn, run_id, metric_key, max_results, start_step, end_step
                    )
                )
        return points

    def get_metric_history_downsampled(
        self,
        run_id: str,
        key: str,
        max_points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        check_max_points(max_points)
        with self.ctx.reading() as conn:
            self.ctx.run_row(conn, run_id)
            return downsampled_history(conn, run_id, key, max_points, start_step, end_step)
