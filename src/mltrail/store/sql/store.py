"""``SqlStore``: the tracking store on SQLAlchemy Core (SQLite, PostgreSQL, MySQL).

The store is composed of one part per resource (``Experiments``, ``Runs``, ``Metrics``,
``LoggedModels``), each built with the same ``StoreContext`` (the engine, its transactions,
the default artifact root and the shared row checks). ``SqlStore`` keeps the
``TrackingStore`` contract and hands each call to the part that owns it; the few calls that
touch two resources (a batch whose points name a logged model, inputs that are models) say
so here, step by step.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from mltrail.exceptions import StoreUnavailable
from mltrail.store.base import (
    LOGGED_MODELS_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
)
from mltrail.store.points import PointRow
from mltrail.store.sql import migrate
from mltrail.store.sql.common import first_line
from mltrail.store.sql.context import StoreContext
from mltrail.store.sql.engine import get_engine
from mltrail.store.sql.experiments import Experiments
from mltrail.store.sql.logged_models import LoggedModels
from mltrail.store.sql.metric_history import Metrics
from mltrail.store.sql.runs import Runs

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


class SqlStore(TrackingStore):
    """Tracking data in one SQL database; artifacts under ``default_artifact_root``."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.db_uri = db_uri
        self.ctx = StoreContext(get_engine(db_uri), default_artifact_root)
        self.engine = self.ctx.engine
        self.default_artifact_root = self.ctx.default_artifact_root
        self.experiments = Experiments(self.ctx)
        self.runs = Runs(self.ctx)
        self.metrics = Metrics(self.ctx)
        self.logged_models = LoggedModels(self.ctx)
        self._prepare()

    def _prepare(self) -> None:
        if self.engine in _ready_engines:
            return
        with _ready_lock:
            if self.engine in _ready_engines:
                return
            migrate_database(self.engine)
            self.experiments.ensure_default()
            _ready_engines.add(self.engine)

    # -- experiments ---------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[ExperimentTag] = ()
    ) -> str:
        return self.experiments.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.experiments.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.experiments.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.experiments.search_experiments(
            view_type, max_results, filter_string, order_by, page_token
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self.experiments.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.experiments.restore_experiment(experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.experiments.rename_experiment(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        self.experiments.set_experiment_tag(experiment_id, tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.experiments.delete_experiment_tag(experiment_id, key)

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        return self.experiments.count_runs(experiment_ids)

    # -- runs ----------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        return self.runs.create_run(experiment_id, user_id, start_time, tags, run_name)

    def get_run(self, run_id: str) -> Run:
        return self.runs.get_run(run_id)

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        return self.runs.update_run_info(run_id, status, end_time, run_name)

    def delete_run(self, run_id: str) -> None:
        self.runs.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.runs.restore_run(run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        # Points may name a logged model: an unknown one fails the batch before anything
        # lands; once the run has taken the points, the models get their copies.
        self.logged_models.check_models([m.model_id for m in metrics if m.model_id])
        self.runs.log_batch(run_id, metrics, params, tags)
        self.logged_models.record_points(run_id, metrics)

    def write_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """``log_batch`` without the per-request size limits."""
        self.runs.write_batch(run_id, metrics, params, tags)

    def write_points(
        self,
        run_id: str,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self.runs.write_points(run_id, points, params, tags)

    def finish_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> RunInfo:
        return self.runs.finish_run(run_id, status, end_time, points, params, tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.runs.delete_tag(run_id, key)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        # Unknown models fail before any dataset lands.
        self.logged_models.check_models([m.model_id for m in models])
        if datasets or not models:
            self.runs.log_inputs(run_id, datasets)
        if models:
            self.logged_models.link_inputs(run_id, models)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.runs.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )

    # -- metric histories ----------------------------------------------------------------------
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.metrics.get_metric_history(run_id, metric_key, max_results, page_token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        return self.metrics.get_metric_history_bulk_interval(
            run_ids, metric_key, max_results, start_step, end_step
        )

    def get_metric_history_downsampled(
        self,
        run_id: str,
        key: str,
        max_points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        return self.metrics.get_metric_history_downsampled(
            run_id, key, max_points, start_step, end_step
        )

    # -- logged models -------------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        return self.logged_models.create_logged_model(
            experiment_id, name, source_run_id, tags, params, model_type
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return self.logged_models.get_logged_model(model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        return self.logged_models.finalize_logged_model(model_id, status)

    def delete_logged_model(self, model_id: str) -> None:
        self.logged_models.delete_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[dict[str, str | None]] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[dict[str, object] | str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.logged_models.search_logged_models(
            experiment_ids, filter_string, datasets, max_results, order_by, page_token
        )

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        self.logged_models.set_logged_model_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.logged_models.delete_logged_model_tag(model_id, key)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        self.logged_models.log_logged_model_params(model_id, params)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self.logged_models.log_outputs(run_id, models)
