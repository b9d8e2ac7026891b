"""``SqlStore``: the tracking store on SQLAlchemy Core (SQLite, PostgreSQL, MySQL)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    LifecycleStage,
    Metric,
    PagedList,
    ViewType,
)
from mltrail.exceptions import InvalidParameter, StoreUnavailable
from mltrail.store.base import (
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
    check_max_points,
)
from mltrail.store.sql import metrics as metric_io
from mltrail.store.sql import migrate
from mltrail.store.sql.common import check_max_results, first_line, now_ms
from mltrail.store.sql.engine import get_engine, transaction
from mltrail.store.sql.experiments import ExperimentMethods
from mltrail.store.sql.logged_models import LoggedModelMethods
from mltrail.store.sql.rows import load_runs
from mltrail.store.sql.runs import RunMethods
from mltrail.store.sql.schema import (
    experiments,
)
from mltrail.utils import validation as v

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"

# Engines whose database has been migrated in this process (weak: a disposed engine's id may
# be reused by a new engine for another database, which must be checked afresh).
_ready_engines: weakref.WeakSet[Any] = weakref.WeakSet()
_ready_lock = threading.Lock()
_migrated_engines: weakref.WeakSet[Any] = weakref.WeakSet()


def migrate_database(engine: Any) -> None:
    """Bring a database to the newest schema (once per engine and process is enough)."""
    if engine in _migrated_engines:
        return
    try:
        migrate.upgrade(engine)
    except sa.exc.OperationalError as exc:
        raise StoreUnavailable(
            f"The tracking database could not be used: {first_line(exc)}"
        ) from None
    except Exception:
        # Another process may have migrated at the same moment; check once more.
        if migrate.current_revision(engine) != migrate.HEAD_REVISION:
            raise
    _migrated_engines.add(engine)


class SqlStore(LoggedModelMethods, ExperimentMethods, RunMethods, TrackingStore):
    """Tracking data in one SQL database; artifacts under ``default_artifact_root``."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.db_uri = db_uri
        self.default_artifact_root = default_artifact_root.rstrip("/")
        self.engine = get_engine(db_uri)
        self._prepare()

    # -- set-up ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        if self.engine in _ready_engines:
            return
        with _ready_lock:
            if self.engine in _ready_engines:
                return
            migrate_database(self.engine)
            self._ensure_default_experiment()
            _ready_engines.add(self.engine)

    def _ensure_default_experiment(self) -> None:
        with transaction(self.engine, write=True) as conn:
            found = conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.experiment_id == 0)
            ).first()
            if found is None:
                now = now_ms()
                conn.execute(
                    experiments.insert().values(
                        experiment_id=0,
                        name=DEFAULT_EXPERIMENT_NAME,
                        artifact_location=f"{self.default_artifact_root}/0",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                )

    # -- experiments -------------------------------------------------------------------------

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import paging

        if max_results is not None and max_results <= 0:
            raise InvalidParameter(
                f"Invalid value {max_results} for parameter 'max_results': it must be positive."
            )
        offset = paging.decode_page_token(page_token)
        with self.engine.connect() as conn:
            self._run_row(conn, run_id)
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
        with self.engine.connect() as conn:
            for run_id in sorted(set(run_ids)):
                self._run_row(conn, run_id)
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
        from mltrail.store.sql.downsample import downsampled_history

        check_max_points(max_points)
        with self.engine.connect() as conn:
            self._run_row(conn, run_id)
            return downsampled_history(conn, run_id, key, max_points, start_step, end_step)

    # -- search ------------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import paging
        from mltrail.store.sql.search.plan import run_search_plan

        check_max_results(max_results)
        exp_ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        view = ViewType.normalize(run_view_type)
        stages = None if view == ViewType.ALL else LifecycleStage.stages_for(view)
        # Parsed first (in the plan): a bad filter fails before any I/O.
        plan = run_search_plan(exp_ids, stages, filter_string, order_by)
        offset = paging.decode_page_token(page_token)
        if not exp_ids:
            return PagedList([])
        with self.engine.connect() as conn:
            rows = plan.rows(conn, offset, max_results + 1)
            found = load_runs(conn, rows[:max_results])
        token = paging.encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(found, token)
