"""``TrailClient`` (also importable as ``MlflowClient``): the one explicit API.

Every fluent call goes through it. Metric, param and tag writes are buffered (see
``buffer.py``) unless ``synchronous=True``; reads flush first, so a client always sees its own
writes.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from mltrail.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    LoggedModel,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.exceptions import (
    InvalidParameter,
    InvalidParameterType,
    LocalFileNotFound,
)
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.base import (
    LOGGED_MODELS_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
)
from mltrail.store.store_cache import get_tracking_store
from mltrail.tracking import artifact_files
from mltrail.tracking.buffer import WriteBuffer
from mltrail.tracking.operations import RunOperations
from mltrail.tracking.registry_client import RegistryClientMethods
from mltrail.tracking.uri import (
    announce_once,
    default_artifact_root,
    get_tracking_uri,
    is_new_sqlite_store,
    normalize_tracking_uri,
)
from mltrail.utils import validation as v

_MAX_REMEMBERED_URIS = 10_000
_MAX_KNOWN_RUNS = 100_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _buffer_for(store: TrackingStore) -> WriteBuffer:
    """One buffer per store, shared by every client of that store in this process. It lives on
    the store object: keyed by ``id(store)``, a new store could inherit a dead one's buffer."""
    buffer = getattr(store, "_mltrail_write_buffer", None)
    if buffer is None:
        buffer = WriteBuffer(store.write_points)
        store._mltrail_write_buffer = buffer  # type: ignore[attr-defined]
    return buffer


# The model this process created last (``mltrail.last_logged_model()``).
_last_logged_model_id: str | None = None


def last_logged_model_id() -> str | None:
    return _last_logged_model_id


def _known_runs_of(store: TrackingStore) -> set[str]:
    """Ids of runs this process has seen active in ``store`` (made, read or written here):
    writes to them skip the existence check. Shared by every client of the store."""
    known = getattr(store, "_mltrail_known_runs", None)
    if known is None:
        known = set()
        store._mltrail_known_runs = known  # type: ignore[attr-defined]
    return known


class TrailClient(RegistryClientMethods):
    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        self.tracking_uri = (
            normalize_tracking_uri(tracking_uri) if tracking_uri else get_tracking_uri()
        )
        self._registry_uri = registry_uri
        creates = is_new_sqlite_store(self.tracking_uri)
        self.store = get_tracking_store(self.tracking_uri)
        if creates:  # told once, when the embedded store is made, not on every use
            announce_once(self.tracking_uri, default_artifact_root(self.tracking_uri))
        self._buffer = _buffer_for(self.store)
        self._known_runs = _known_runs_of(self.store)
        self._artifact_uris: dict[str, str] = {}

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        exp_tags = [ExperimentTag(k, str(val)) for k, val in (tags or {}).items()]
        return self.store.create_experiment(name, artifact_location, exp_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.store.search_experiments(
            ViewType.normalize(view_type), max_results, filter_string, order_by, page_token
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self.flush()
        self.store.delete_experiment(str(experiment_id))
        self._known_runs.clear()  # its runs are deleted with it

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(str(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), key)

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
        self._remember_artifact_uri(run.info.run_id, run.info.artifact_uri)
        self._know_run(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        self.flush()
        run = self.store.get_run(run_id)
        if run.info.lifecycle_stage == "active":
            self._know_run(run_id)
        return run

    def _know_run(self, run_id: str) -> None:
        known = self._known_runs
        if len(known) >= _MAX_KNOWN_RUNS:
            known.clear()
        known.add(run_id)

    def _require_active_run(self, run_id: str) -> None:
        """Raise at the call, as MLflow does, when a write targets a run that does not exist
        or is deleted. Each run is looked up once per process (see ``_known_runs_of``)."""
        run = self.store.get_run(run_id)  # NotFound (RESOURCE_DOES_NOT_EXIST) if missing
        if run.info.lifecycle_stage != "active":
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. Current state is "
                f"{run.info.lifecycle_stage}."
            )
        self._know_run(run_id)

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
            self._require_active_run(run_id)
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
            self._require_active_run(run_id)
        self.store.log_batch(run_id, params=[param])
        return RunOperations() if synchronous is False else value

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> RunOperations | None:
        tag = RunTag(v.validate_key(key, "tag key"), v.tag_value_str(key, value))
        if run_id not in self._known_runs:
            self._require_active_run(run_id)
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
        self._know_run(run_id)
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

    # -- artifacts ---------------------------------------------------------------------------
    def artifact_uri(self, run_id: str) -> str:
        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self._remember_artifact_uri(run_id, self.store.get_run(run_id).info.artifact_uri)
        return uri

    def _remember_artifact_uri(self, run_id: str, uri: str) -> str:
        # A cache (artifact calls skip a run read), emptied when full: a process may make
        # runs by the million.
        if len(self._artifact_uris) >= _MAX_REMEMBERED_URIS:
            self._artifact_uris.clear()
        self._artifact_uris[run_id] = uri
        return uri

    def _artifact_repo(self, run_id: str) -> ArtifactRepository:
        from mltrail.store.artifact import get_artifact_repository

        return get_artifact_repository(self.artifact_uri(run_id), self.tracking_uri)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        local_path = os.fspath(local_path)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            target = f"{artifact_path}/{name}" if artifact_path else name
            self._artifact_repo(run_id).log_artifacts(local_path, target)
        elif os.path.isfile(local_path):
            self._artifact_repo(run_id).log_artifact(local_path, artifact_path)
        else:
            raise LocalFileNotFound(f"Cannot log artifact: no file or folder at {local_path!r}.")

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        local_dir = os.fspath(local_dir)
        if not os.path.isdir(local_dir):
            # MLflow logs nothing and says nothing; a typo in a path should not pass unseen.
            raise LocalFileNotFound(f"Cannot log artifacts: no folder at {local_dir!r}.")
        self._artifact_repo(run_id).log_artifacts(local_dir, artifact_path)

    def _log_object(self, run_id: str, artifact_file: str, writer: Any, obj: Any) -> None:
        from mltrail.store.artifact.paths import safe_relative_path

        rel = safe_relative_path(artifact_file)
        if not rel:
            raise InvalidParameter("artifact_file must name a file, e.g. 'notes.txt'.")
        folder, _, name = rel.rpartition("/")
        with tempfile.TemporaryDirectory(prefix="mltrail-") as tmp:
            path = writer(tmp, name, obj)
            self._artifact_repo(run_id).log_artifact(path, folder or None)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._log_object(run_id, artifact_file, artifact_files.write_text, text)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self._log_object(run_id, artifact_file, artifact_files.write_dict, dictionary)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, **_: Any) -> None:
        self._log_object(run_id, artifact_file, artifact_files.write_figure, figure)

    def log_image(
        self, run_id: str, image: Any, artifact_file: str | None = None, **_: Any
    ) -> None:
        if not artifact_file:
            raise InvalidParameterType("log_image needs artifact_file, e.g. 'sample.png'.")
        self._log_object(run_id, artifact_file, artifact_files.write_image, image)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._artifact_repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        return self._artifact_repo(run_id).download_artifacts(path, dst_path)

    # -- logged models (MLflow 3) ------------------------------------------------------------
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
        model = self.store.create_logged_model(
            str(experiment_id),
            name,
            source_run_id,
            [LoggedModelTag(k, str(val)) for k, val in (tags or {}).items()],
            [LoggedModelParameter(k, str(val)) for k, val in (params or {}).items()],
            model_type,
        )
        global _last_logged_model_id
        _last_logged_model_id = model.model_id
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return self.store.get_logged_model(model_id, allow_deleted=allow_deleted)

    def finalize_logged_model(self, model_id: str, status: object) -> LoggedModel:
        """Set the final status: ``"READY"`` once the files are uploaded, or ``"FAILED"``
        (any spelling, mlflow's ``LoggedModelStatus`` enum too)."""
        return self.store.finalize_logged_model(model_id, LoggedModelStatus.normalize(status))

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
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        self.flush()  # metrics logged with a model_id count in filters
        return self.store.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string or None,
            datasets,
            max_results if max_results is not None else LOGGED_MODELS_MAX_RESULTS_DEFAULT,
            order_by,
            page_token,
        )

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        tag_list = [LoggedModelTag(k, str(val)) for k, val in tags.items()]
        self.store.set_logged_model_tags(model_id, tag_list)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        param_list = [LoggedModelParameter(k, str(val)) for k, val in params.items()]
        self.store.log_logged_model_params(model_id, param_list)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models the run produced (they show in the run's ``outputs``)."""
        self.store.log_outputs(run_id, list(models))


MlflowClient = TrailClient
