"""``TrailClient`` (also importable as ``MlflowClient``): the one explicit API.

Every fluent call goes through it. Metric, param and tag writes are buffered (see
``buffer.py``) unless ``synchronous=True``; reads flush first, so a client always sees its own
writes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from mltrail.entities import (
    DatasetInput,
    FileInfo,
    LoggedModel,
    LoggedModelOutput,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.base import SEARCH_MAX_RESULTS_DEFAULT
from mltrail.store.registry_base import ModelRegistryStore
from mltrail.store.store_cache import get_tracking_store
from mltrail.tracking.client_artifacts import RunArtifacts
from mltrail.tracking.client_experiments import ExperimentCalls, experiment_method
from mltrail.tracking.client_logged_models import LoggedModels, last_logged_model_id
from mltrail.tracking.operations import RunOperations
from mltrail.tracking.registry_client import RegistryCalls, client_method
from mltrail.tracking.store_session import session_for
from mltrail.tracking.uri import (
    announce_once,
    default_artifact_root,
    get_tracking_uri,
    is_new_sqlite_store,
    normalize_tracking_uri,
)
from mltrail.utils import validation as v

__all__ = ["MlflowClient", "TrailClient", "last_logged_model_id"]


def _now_ms() -> int:
    return int(time.time() * 1000)


class TrailClient:
    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        self.tracking_uri = (
            normalize_tracking_uri(tracking_uri) if tracking_uri else get_tracking_uri()
        )
        self._registry_uri = registry_uri
        creates = is_new_sqlite_store(self.tracking_uri)
        self.store = get_tracking_store(self.tracking_uri)
        if creates:  # told once, when the embedded store is made, not on every use
            announce_once(self.tracking_uri, default_artifact_root(self.tracking_uri))
        # Parts, by resource: the store's session (write buffer and known runs, shared by
        # every client of the store), this client's artifact access and logged models.
        session = self._session = session_for(self.tracking_uri, self.store)
        self._buffer = session.buffer
        self._known_runs = session.known_runs
        self._artifacts = RunArtifacts(self.store, self.tracking_uri)
        self._models = LoggedModels(self.store)
        self._registry = RegistryCalls(self.tracking_uri, registry_uri)
        self._experiments = ExperimentCalls(session)

    # -- experiments (``client_experiments.py``) -------------------------------------------
    create_experiment = experiment_method(ExperimentCalls.create_experiment)
    get_experiment = experiment_method(ExperimentCalls.get_experiment)
    get_experiment_by_name = experiment_method(ExperimentCalls.get_experiment_by_name)
    search_experiments = experiment_method(ExperimentCalls.search_experiments)
    delete_experiment = experiment_method(ExperimentCalls.delete_experiment)
    restore_experiment = experiment_method(ExperimentCalls.restore_experiment)
    rename_experiment = experiment_method(ExperimentCalls.rename_experiment)
    set_experiment_tag = experiment_method(ExperimentCalls.set_experiment_tag)
    delete_experiment_tag = experiment_method(ExperimentCalls.delete_experiment_tag)

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        tag_map = {k: str(val) for k, val in (tags or {}).items()}
        user = tag_map.get("mlflow.user", "unknown")
        run = self.store.create_run(
            str(experiment_id),
            user,
            start_time if start_time is not None else _now_ms(),
            [RunTag(k, val) for k, val in tag_map.items()],
            run_name,
        )
        self._artifacts.remember(run.info.run_id, run.info.artifact_uri)
        self._session.know_run(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        self.flush()
        run = self.store.get_run(run_id)
        if run.info.lifecycle_stage == "active":
            self._session.know_run(run_id)
        return run

    def get_parent_run(self, run_id: str) -> Run | None:
        parent = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent) if parent else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        self.flush()
        self.store.update_run_info(run_id, status=status, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        """End a run: write what was logged to it and record its status and end time (one
        transaction where the store allows)."""
        final_status = RunStatus.normalize(status or "FINISHED")
        final_time = end_time if end_time is not None else _now_ms()
        self._buffer.flush_finishing(
            run_id,
            lambda points, params, tags: self.store.finish_run(
                run_id, final_status, final_time, points, params, tags
            ),
        )

    def delete_run(self, run_id: str) -> None:
        self.flush()
        self.store.delete_run(run_id)
        self._known_runs.discard(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    # -- logging -----------------------------------------------------------------------------
    # Errors are raised at the call (a bad value, a run that does not exist, a param logged
    # again with another value); what cannot fail any more is buffered, unless ``synchronous``.
    # ``synchronous=False`` returns a ``RunOperations`` whose ``wait()`` flushes.
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        **_ignored: Any,
    ) -> RunOperations | None:
        # The hot path of every training loop: keep it to a few attribute lookups.
        if type(value) is not float:
            value = v.validate_metric_value(key, value)
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        elif type(timestamp) is not int or not 0 <= timestamp <= v.INT64_MAX:
            timestamp = v.validate_timestamp(timestamp)
        if step is None:
            step = 0
        elif type(step) is not int or not v.INT64_MIN <= step <= v.INT64_MAX:
            step = v.validate_step(step)
        if key not in v.VALID_KEYS:  # the cache of keys already found valid
            v.validate_key(key, "metric key")
        if run_id not in self._known_runs:
            self._session.require_active_run(run_id)
        if synchronous:
            self.flush()
            self.store.log_batch(run_id, metrics=[Metric(key, value, timestamp, step)])
            return None
        self._buffer.add_point(run_id, key, value, timestamp, step)
        return None if synchronous is None else RunOperations(self.flush)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Written at once, so a changed value raises here (params are few)."""
        param = Param(v.validate_key(key, "param key"), v.param_value_str(key, value))
        if run_id not in self._known_runs:
            self._session.require_active_run(run_id)
        self.store.log_batch(run_id, params=[param])
        return RunOperations() if synchronous is False else value

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> RunOperations | None:
        tag = RunTag(v.validate_key(key, "tag key"), v.tag_value_str(key, value))
        if run_id not in self._known_runs:
            self._session.require_active_run(run_id)
        if synchronous:
            self.flush()
            self.store.log_batch(run_id, tags=[tag])
            return None
        self._buffer.add(run_id, tag)
        return None if synchronous is None else RunOperations(self.flush)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.flush()
        self.store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> RunOperations | None:
        """Log many values at once, written through at once (MLflow's semantics). Batches over
        a request's limits (1000 metrics, 100 params, 100 tags) are split as MLflow's client
        splits them; a SQL store takes the whole batch in one transaction."""
        metrics, params, tags = list(metrics), list(params), list(tags)
        self.flush()
        write_whole = getattr(self.store, "write_batch", None)
        # Points linked to a logged model go through log_batch, which files the model's copy.
        if write_whole is not None and not any(m.model_id for m in metrics):
            write_whole(run_id, metrics, params, tags)
        else:
            for m_part, p_part, t_part in v.split_batch(metrics, params, tags):
                self.store.log_batch(run_id, m_part, p_part, t_part)
        self._session.know_run(run_id)
        return RunOperations() if synchronous is False else None

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] | None = None) -> None:
        self.store.log_inputs(run_id, list(datasets or []))

    def flush(self) -> None:
        """Write every buffered metric, param and tag now; raise any error met doing so."""
        self._buffer.flush()

    # -- reads -------------------------------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> PagedList:
        """Every point of the metric, as one page (a ``PagedList`` with no next token)."""
        self.flush()
        points: list[Metric] = []
        token = None
        while True:
            page = self.store.get_metric_history(run_id, key, page_token=token)
            points.extend(page)
            token = page.token
            if not token:
                return PagedList(points, None)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        self.flush()
        return self.store.search_runs(
            [str(e) for e in experiment_ids],
            filter_string or None,
            ViewType.normalize(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # -- artifacts (``client_artifacts.py``) -------------------------------------------------
    def artifact_uri(self, run_id: str) -> str:
        return self._artifacts.artifact_uri(run_id)

    def _artifact_repo(self, run_id: str) -> ArtifactRepository:
        return self._artifacts.repository(run_id)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        self._artifacts.log_artifact(run_id, local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        self._artifacts.log_artifacts(run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._artifacts.log_object(run_id, artifact_file, "text", text)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self._artifacts.log_object(run_id, artifact_file, "dict", dictionary)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, **_: Any) -> None:
        self._artifacts.log_object(run_id, artifact_file, "figure", figure)

    def log_image(
        self, run_id: str, image: Any, artifact_file: str | None = None, **_: Any
    ) -> None:
        self._artifacts.log_object(run_id, artifact_file or "", "image", image)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._artifacts.list_artifacts(run_id, path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        return self._artifacts.download_artifacts(run_id, path, dst_path)

    # -- logged models (MLflow 3; ``client_logged_models.py``) -------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING model; its files go under ``model.artifact_location``."""
        return self._models.create(experiment_id, name, source_run_id, tags, params, model_type)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return self.store.get_logged_model(model_id, allow_deleted=allow_deleted)

    def finalize_logged_model(self, model_id: str, status: object) -> LoggedModel:
        """Set the final status: ``"READY"`` once the files are uploaded, or ``"FAILED"``
        (any spelling, mlflow's ``LoggedModelStatus`` enum too)."""
        return self._models.finalize(model_id, status)

    def delete_logged_model(self, model_id: str) -> None:
        self.store.delete_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[dict[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[dict[str, Any] | str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of models; ``order_by`` items are ``{"field_name": ..., "ascending": ...}``
        (or strings such as ``"metrics.acc DESC"``)."""
        self.flush()  # metrics logged with a model_id count in filters
        return self._models.search(
            experiment_ids, filter_string, datasets, max_results, order_by, page_token
        )

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        self._models.set_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        self._models.log_params(model_id, params)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models the run produced (they show in the run's ``outputs``)."""
        self._models.log_outputs(run_id, models)


    # -- model registry (``registry_client.py``'s ``RegistryCalls``) ------------------------
    @property
    def registry_store(self) -> ModelRegistryStore:
        return self._registry.registry_store

    create_registered_model = client_method(RegistryCalls.create_registered_model)
    get_registered_model = client_method(RegistryCalls.get_registered_model)
    rename_registered_model = client_method(RegistryCalls.rename_registered_model)
    update_registered_model = client_method(RegistryCalls.update_registered_model)
    delete_registered_model = client_method(RegistryCalls.delete_registered_model)
    search_registered_models = client_method(RegistryCalls.search_registered_models)
    get_latest_versions = client_method(RegistryCalls.get_latest_versions)
    set_registered_model_tag = client_method(RegistryCalls.set_registered_model_tag)
    delete_registered_model_tag = client_method(RegistryCalls.delete_registered_model_tag)
    create_model_version = client_method(RegistryCalls.create_model_version)
    get_model_version = client_method(RegistryCalls.get_model_version)
    update_model_version = client_method(RegistryCalls.update_model_version)
    delete_model_version = client_method(RegistryCalls.delete_model_version)
    transition_model_version_stage = client_method(RegistryCalls.transition_model_version_stage)
    get_model_version_download_uri = client_method(RegistryCalls.get_model_version_download_uri)
    search_model_versions = client_method(RegistryCalls.search_model_versions)
    set_model_version_tag = client_method(RegistryCalls.set_model_version_tag)
    delete_model_version_tag = client_method(RegistryCalls.delete_model_version_tag)
    copy_model_version = client_method(RegistryCalls.copy_model_version)
    set_registered_model_alias = client_method(RegistryCalls.set_registered_model_alias)
    delete_registered_model_alias = client_method(RegistryCalls.delete_registered_model_alias)
    get_model_version_by_alias = client_method(RegistryCalls.get_model_version_by_alias)
    get_model_version_by_uri = client_method(RegistryCalls.get_model_version_by_uri)


MlflowClient = TrailClient
