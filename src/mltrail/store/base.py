"""The tracking store contract: every backend (SQL, REST) implements exactly this.

Methods raise ``NotFound`` for unknown ids, ``InvalidParameter`` for bad input and
``InvalidState`` for writes to deleted objects; a write either lands whole or raises.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence

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
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.store.points import PointRow

SEARCH_MAX_RESULTS_DEFAULT = 1000

SEARCH_MAX_RESULTS_THRESHOLD = 50000
LOGGED_MODELS_MAX_RESULTS_DEFAULT = 50  # MLflow's proto default for search-logged-models
# Logged model ids are "m-" and 32 hex digits; a text unlike any id cannot name a model, and
# stores answer "not found" for it without sending it anywhere (NUL bytes, slashes...).
MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w\-]{0,63}$")


def model_not_found(model_id: object) -> NotFound:
    return NotFound(f"Logged model with ID '{str(model_id)[:100]}' not found.")


class TrackingStore(abc.ABC):
    """Experiments, runs, and the params, metrics, tags and inputs logged to runs."""

    # -- experiments -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        """Create an experiment and return its id. ``AlreadyExists`` if the name is taken."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted ones included. ``NotFound`` if there is none."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with that exact name, or ``None``."""

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of experiments; default order ``creation_time DESC, experiment_id ASC``."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and mark all its runs deleted."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Undo ``delete_experiment``, runs included."""

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment. ``AlreadyExists`` if the new name is taken."""

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Set (or overwrite) one experiment tag."""

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one experiment tag. ``NotFound`` if it is not set."""

    # -- runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment; a readable name is generated if none."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params and tags. ``NotFound`` if there is none."""

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change the fields given (others untouched) of an active run."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo ``delete_run``."""

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write metrics, params and tags to an active run in one transaction.

        Identical metric points (key, timestamp, step, value) are stored once; a param that
        already exists with another value raises ``InvalidParameter`` and nothing is written.
        """

    def write_points(
        self,
        run_id: str,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """A batch from the client's write buffer, of any size: points as already checked
        (key, value, timestamp, step) tuples. Stores with a faster path override this."""
        metrics = [Metric(key, value, ts, step) for key, value, ts, step in points]
        write = getattr(self, "write_batch", None) or self.log_batch
        write(run_id, metrics, params, tags)

    def finish_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        points: Sequence[PointRow] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> RunInfo:
        """Write a run's last points (as ``write_points`` takes them), params and tags, then
        record its end. Stores that can do both in one transaction override this."""
        if points or params or tags:
            self.write_points(run_id, points, params, tags)
        return self.update_run_info(run_id, status=status, end_time=end_time)

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        """Active runs and the newest run start of each experiment, as ``{id: (n, start)}``.

        This default pages through runs (at most 1000 per experiment); SQL stores answer with
        one grouped query.
        """
        found = {}
        for experiment_id in experiment_ids:
            page = self.search_runs([experiment_id], max_results=1000, order_by=["start_time DESC"])
            found[experiment_id] = (len(page), page[0].info.start_time if page else None)
        return found

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove one run tag. ``NotFound`` if it is not set."""

    @abc.abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        """Record datasets (idempotent per dataset and context) and logged models the run
        used. Stores without logged models refuse ``models`` (see ``_no_logged_models``)."""

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Every point of one metric, ordered by (timestamp, step, value)."""

    @abc.abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """Per run, at most ``max_results`` points of a metric spread over its steps (first
        and last kept), each carrying its ``run_id``: what a chart needs."""

    def get_metric_history_downsampled(
        self,
        run_id: str,
        key: str,
        max_points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """About ``max_points`` points of one metric between two steps (inclusive), in step
        order, for drawing: every point when they fit; else the steps are cut into
        ``max_points // 2`` equal buckets and each bucket gives its minimum value (at its
        first step and timestamp) and its maximum value (at its last), so no spike is lost.

        This default reads the whole history; SQL stores bucket inside the database.
        """
        check_max_points(max_points)
        points = [
            m
            for m in self.get_metric_history(run_id, key)
            if (start_step is None or m.step >= start_step)
            and (end_step is None or m.step <= end_step)
        ]
        points.sort(key=lambda m: (m.step, m.timestamp))
        if len(points) <= max_points:
            return points
        lo, hi = points[0].step, points[-1].step
        width = max(1, -(-(hi - lo + 1) // max(1, max_points // 2)))
        buckets: dict[int, list[Metric]] = {}
        for m in points:
            if m.value == m.value:  # NaN is neither a minimum nor a maximum
                buckets.setdefault((m.step - lo) // width, []).append(m)
        found: list[Metric] = []
        for members in buckets.values():
            low = min(m.value for m in members)
            high = max(m.value for m in members)
            first, last = members[0], members[-1]
            found.append(Metric(key, low, min(m.timestamp for m in members), first.step, run_id))
            if last.step != first.step or high != low:
                ts = max(m.timestamp for m in members)
                found.append(Metric(key, high, ts, last.step, run_id))
        return sorted(found, key=lambda m: (m.step, m.timestamp))

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of runs matching the filter (see ``mltrail.search``)."""

    # -- logged models (MLflow 3) -------------------------------------------------------------
    # Defaults refuse with NOT_IMPLEMENTED, so a store without logged models still works for
    # everything else; SqlStore and RestStore implement them all.
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model in an active experiment, its artifacts under
        ``<experiment location>/models/<model_id>/artifacts``; a name is generated if none."""
        raise _no_logged_models(self)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics. ``NotFound`` if there is none (or it
        is deleted, unless ``allow_deleted``)."""
        raise _no_logged_models(self)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Set the model's status (``LOGGED_MODEL_READY`` once its files are uploaded)."""
        raise _no_logged_models(self)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a model: gone from get and search, its files kept."""
        raise _no_logged_models(self)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[dict[str, str | None]] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[dict[str, object] | str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of active models. ``datasets`` ({dataset_name, dataset_digest}) narrow metric
        filters; ``order_by`` items are {field_name, ascending, dataset_name, dataset_digest}
        (or ``"field [ASC|DESC]"``); default order ``creation_timestamp DESC, model_id``."""
        raise _no_logged_models(self)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Set (or overwrite) tags of a model."""
        raise _no_logged_models(self)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove one tag of a model. ``NotFound`` if it is not set."""
        raise _no_logged_models(self)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        """Add params to a model; like run params, a key keeps its first value."""
        raise _no_logged_models(self)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models the run produced (``outputs.model_outputs`` of the run)."""
        raise _no_logged_models(self)


def _no_logged_models(store: TrackingStore) -> MltrailException:
    return MltrailException(
        f"{type(store).__name__} does not keep logged models; use a SQL store or a tracking "
        "server for them.",
        error_code="NOT_IMPLEMENTED",
    )


def check_max_points(max_points: int) -> None:
    if not isinstance(max_points, int) or not 1 <= max_points <= 100_000:
        raise InvalidParameter(
            f"Invalid max_points {max_points!r}: give an integer between 1 and 100000."
        )
