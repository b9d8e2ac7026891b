"""``SqlStore``: the tracking store on SQLAlchemy Core (SQLite, PostgreSQL, MySQL).

The store is composed of one part per resource (``Experiments``, ``Runs``, ``Metrics``,
``LoggedModels``), each built with the same ``StoreContext`` (the engine, its transactions,
the default artifact root and the shared row checks). ``SqlStore`` keeps the
``TrackingStore`` contract and hands each call to the part that owns it, as a class attribute
made by ``part_method`` (the signature is written once, on the part, and mypy checks it against
the contract); the few calls that touch two resources (a batch whose points name a logged
model, inputs that are models) say so here, step by step.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import DatasetInput, LoggedModelInput, Metric, Param, RunTag
from mltrail.exceptions import StoreUnavailable
from mltrail.store.base import TrackingStore
from mltrail.store.sql import migrate
from mltrail.store.sql.common import first_line
from mltrail.store.sql.context import StoreContext
from mltrail.store.sql.engine import get_engine
from mltrail.store.sql.experiments import Experiments
from mltrail.store.sql.logged_models import LoggedModels
from mltrail.store.sql.metric_history import Metrics
from mltrail.store.sql.runs import Runs
from mltrail.utils.parts import part_method

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
    create_experiment = part_method("experiments", Experiments.create_experiment)
    get_experiment = part_method("experiments", Experiments.get_experiment)
    get_experiment_by_name = part_method("experiments", Experiments.get_experiment_by_name)
    search_experiments = part_method("experiments", Experiments.search_experiments)
    delete_experiment = part_method("experiments", Experiments.delete_experiment)
    restore_experiment = part_method("experiments", Experiments.restore_experiment)
    rename_experiment = part_method("experiments", Experiments.rename_experiment)
    set_experiment_tag = part_method("experiments", Experiments.set_experiment_tag)
    delete_experiment_tag = part_method("experiments", Experiments.delete_experiment_tag)
    count_runs = part_method("experiments", Experiments.count_runs)

    # -- runs ----------------------------------------------------------------------------------
    create_run = part_method("runs", Runs.create_run)
    get_run = part_method("runs", Runs.get_run)
    update_run_info = part_method("runs", Runs.update_run_info)
    delete_run = part_method("runs", Runs.delete_run)
    restore_run = part_method("runs", Runs.restore_run)
    write_batch = part_method("runs", Runs.write_batch)
    write_points = part_method("runs", Runs.write_points)
    finish_run = part_method("runs", Runs.finish_run)
    delete_tag = part_method("runs", Runs.delete_tag)
    search_runs = part_method("runs", Runs.search_runs)

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

    # -- metric histories ----------------------------------------------------------------------
    get_metric_history = part_method("metrics", Metrics.get_metric_history)
    get_metric_history_bulk_interval = part_method(
        "metrics", Metrics.get_metric_history_bulk_interval
    )
    get_metric_history_downsampled = part_method("metrics", Metrics.get_metric_history_downsampled)

    # -- logged models -------------------------------------------------------------------------
    create_logged_model = part_method("logged_models", LoggedModels.create_logged_model)
    get_logged_model = part_method("logged_models", LoggedModels.get_logged_model)
    finalize_logged_model = part_method("logged_models", LoggedModels.finalize_logged_model)
    delete_logged_model = part_method("logged_models", LoggedModels.delete_logged_model)
    search_logged_models = part_method("logged_models", LoggedModels.search_logged_models)
    set_logged_model_tags = part_method("logged_models", LoggedModels.set_logged_model_tags)
    delete_logged_model_tag = part_method("logged_models", LoggedModels.delete_logged_model_tag)
    log_logged_model_params = part_method("logged_models", LoggedModels.log_logged_model_params)
    log_outputs = part_method("logged_models", LoggedModels.log_outputs)
