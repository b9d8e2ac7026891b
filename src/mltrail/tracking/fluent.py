"""The fluent API: module-level functions over a ``TrailClient`` and a stack of active runs,
with MLflow's names and semantics (the logging calls are in ``fluent_logging.py``). Its state
(active runs, active experiment, tracking URI) lives in context variables: see ``state.py``
for what threads and asyncio tasks see."""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, Literal

from mltrail.entities import (
    Experiment,
    Run,
    RunStatus,
    ViewType,
)
from mltrail.entities.tracking import collect_pages
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.tracking import context, run_companions
from mltrail.tracking import uri as tracking_uri
from mltrail.tracking.client import TrailClient
from mltrail.tracking.state import Setting


class ActiveRun(Run):
    """The run ``start_run`` returns; as a context manager it ends the run FINISHED, or
    FAILED when the block raises (Ctrl-C included, as in MLflow)."""

    def __init__(self, run: Run, client: TrailClient | None = None) -> None:
        super().__init__(run.info, run.data, run.inputs, run.outputs)
        # The process that started it ends it: a forked worker inherits the run but must not
        # end it when the worker exits.
        self._owner_pid = os.getpid()
        # Logging calls into the run go through the client that started it (the store the
        # run lives in), without re-reading the tracking URI settings.
        self._client = client
        self._run_id = run.info.run_id

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        end_run("FINISHED" if exc_type is None else "FAILED")
        return False


# The state of the fluent API (see ``state.py``): the active runs of this context, innermost
# last, as an immutable tuple; the run this context ended last; the active experiment.
_active_runs: ContextVar[tuple[ActiveRun, ...]] = ContextVar("mltrail_active_runs", default=())
_last_run_id: ContextVar[str | None] = ContextVar("mltrail_last_run_id", default=None)
_active_experiment = Setting[str | None]("mltrail_active_experiment", None)

# Clients by tracking URI setting (explicit URI, MLTRAIL_ and MLFLOW_TRACKING_URI): several
# contexts may track to several stores at once.
_clients: dict[tuple[str | None, ...], TrailClient] = {}
_MAX_CLIENTS = 32


def _get_client() -> TrailClient:
    """The client for the current tracking URI (made once per URI setting)."""
    setting = (
        tracking_uri.explicit_tracking_uri(),
        os.environ.get("MLTRAIL_TRACKING_URI"),
        os.environ.get("MLFLOW_TRACKING_URI"),
    )
    client = _clients.get(setting)
    if client is None:
        if len(_clients) >= _MAX_CLIENTS:
            _clients.clear()
        client = _clients[setting] = TrailClient(tracking_uri.get_tracking_uri())
    return client


def _push_run(run: ActiveRun) -> None:
    _active_runs.set((*_active_runs.get(), run))


def _pop_run() -> None:
    _active_runs.set(_active_runs.get()[:-1])


def _reset_for_tests() -> None:
    """The one reset of the fluent state: ends this context's runs and forgets the active
    experiment, the tracking and registry URIs and the clients."""
    while _active_runs.get():
        try:
            end_run()
        except MltrailException:
            _pop_run()
    _clients.clear()
    _last_run_id.set(None)
    _active_experiment.reset()
    tracking_uri.reset_tracking_uri()
    from mltrail.tracking import fluent_registry

    fluent_registry.reset_registry_uri()
    from mltrail.store.store_cache import reset_stores

    reset_stores()


# -- where data goes -------------------------------------------------------------------------
def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    tracking_uri.set_tracking_uri(uri)
    _active_experiment.set(None)


def get_tracking_uri() -> str:
    return tracking_uri.get_tracking_uri()


def is_tracking_uri_set() -> bool:
    return tracking_uri.is_tracking_uri_set()


# -- experiments -----------------------------------------------------------------------------
def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    return _get_client().create_experiment(name, artifact_location, tags)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, by name (created if missing) or by id."""
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameter("Give exactly one of experiment_name or experiment_id.")
    client = _get_client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        name = str(experiment_name)
        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                new_id = client.create_experiment(name)
            except MltrailException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # created by a racing process
                    raise
                raced = client.get_experiment_by_name(name)
                if raced is None:
                    raise
                new_id = raced.experiment_id
            found = client.get_experiment(new_id)
        experiment = found
    if experiment.lifecycle_stage != "active":
        raise InvalidParameter(
            f"Experiment '{experiment.name}' (id {experiment.experiment_id}) is deleted; "
            "restore it with `mltrail experiments restore` or choose another name."
        )
    _active_experiment.set(experiment.experiment_id)
    return experiment


def get_experiment(experiment_id: str) -> Experiment:
    return _get_client().get_experiment(str(experiment_id))


def get_experiment_by_name(name: str) -> Experiment | None:
    return _get_client().get_experiment_by_name(name)


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    client = _get_client()
    return collect_pages(
        lambda size, token: client.search_experiments(
            view_type, size, filter_string, order_by, token
        ),
        1000,
        max_results,
    )


def delete_experiment(experiment_id: str) -> None:
    _get_client().delete_experiment(str(experiment_id))


def set_experiment_tag(key: str, value: Any) -> None:
    _get_client().set_experiment_tag(_resolve_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def _resolve_experiment_id() -> str:
    active = _active_experiment.get()
    if active is not None:
        return active
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return set_experiment(experiment_name=name).experiment_id
    exp_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
    if exp_id:
        return set_experiment(experiment_id=exp_id).experiment_id
    return "0"


# -- runs ------------------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``, also one made by another process) and make it the
    active run of this thread or task (see ``state.py``)."""
    client = _get_client()
    stack = _active_runs.get()
    if stack and not nested:
        raise InvalidParameter(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a nested run, "
            "call start_run with nested=True; to start a new one, call end_run() first."
        )
    if not run_id and os.environ.get("MLFLOW_RUN_ID"):
        # As MLflow: the variable names the run of the first start_run only.
        run_id = os.environ.pop("MLFLOW_RUN_ID")
    if run_id:
        run = _resume(client, run_id, experiment_id, run_name)
    else:
        run = _create(client, experiment_id, run_name, nested, parent_run_id, tags, description)
    active = ActiveRun(run, client)
    _push_run(active)
    # System metrics, console and code capture: each off unless asked for.
    run_companions.on_run_start(run.info.run_id, client, log_system_metrics, bool(run_id))
    return active


def _resume(
    client: TrailClient, run_id: str, experiment_id: str | None, run_name: str | None
) -> Run:
    try:
        run = client.get_run(run_id)
    except NotFound:
        raise NotFound(f"Cannot resume run {run_id}: no run with that id exists.") from None
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidParameter(
            f"Run {run_id} belongs to experiment {run.info.experiment_id}, not {experiment_id}."
        )
    if run.info.lifecycle_stage != "active":
        raise InvalidParameter(f"Cannot resume run {run_id}: it is deleted.")
    client.update_run(run_id, status="RUNNING", name=run_name or None)
    return client.get_run(run_id)


def _create(
    client: TrailClient,
    experiment_id: str | None,
    run_name: str | None,
    nested: bool,
    parent_run_id: str | None,
    tags: dict[str, Any] | None,
    description: str | None,
) -> Run:
    if experiment_id is not None:
        exp_id = str(experiment_id)
        try:
            experiment = client.get_experiment(exp_id)
        except NotFound:
            raise NotFound(
                f"Cannot start a run in experiment {exp_id}: no experiment with that id exists. "
                "Create it with mltrail.create_experiment or mltrail.set_experiment."
            ) from None
        if experiment.lifecycle_stage != "active":
            raise InvalidParameter(f"Cannot start a run in experiment {exp_id}: it is deleted.")
    elif _active_runs.get() and nested:
        exp_id = _active_runs.get()[-1].info.experiment_id
    else:
        exp_id = _resolve_experiment_id()
    all_tags = dict(context.system_tags())
    all_tags.update({k: str(val) for k, val in (tags or {}).items()})
    stack = _active_runs.get()
    parent = parent_run_id or (stack[-1].info.run_id if nested and stack else None)
    if parent:
        all_tags[context.PARENT_RUN_ID] = parent
    if description:
        all_tags[context.NOTE] = description
    if run_name:
        all_tags[context.RUN_NAME] = run_name
    return client.create_run(exp_id, tags=all_tags, run_name=run_name)


def end_run(status: str = "FINISHED") -> None:
    """End the active run: everything logged to it is written before this returns."""
    stack = _active_runs.get()
    if not stack:
        return
    run = stack[-1]
    client = run._client or _get_client()
    run_companions.on_run_end(run.info.run_id)
    try:
        client.set_terminated(run.info.run_id, RunStatus.normalize(status))
    finally:
        _pop_run()
        _last_run_id.set(run.info.run_id)


def active_run() -> ActiveRun | None:
    stack = _active_runs.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    run = active_run()
    if run is not None:
        return _get_client().get_run(run.info.run_id)
    last = _last_run_id.get()
    return _get_client().get_run(last) if last else None


def active_client() -> TrailClient | None:
    """The client of the active run (the store it lives in), if a run is active."""
    run = active_run()
    return run._client if run is not None else None


def get_run(run_id: str) -> Run:
    return _get_client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    return _get_client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    _get_client().delete_run(run_id)


def _end_runs_at_exit() -> None:
    # As MLflow does: a script that never called end_run still leaves its runs FINISHED.
    while _active_runs.get() and _active_runs.get()[-1]._owner_pid == os.getpid():
        try:
            end_run()
        except Exception as exc:  # noqa: BLE001 - the interpreter is going away; say it once
            sys.stderr.write(f"mltrail: could not end run at exit: {exc}\n")
            _pop_run()


atexit.register(_end_runs_at_exit)


def _active_run_id(run_id: str | None = None) -> str:
    if run_id:
        return run_id
    stack = _active_runs.get()
    if stack:
        return stack[-1]._run_id
    return start_run().info.run_id  # MLflow starts a run implicitly on the first log call


def _writer(run_id: str | None = None) -> tuple[TrailClient, str]:
    """The client and run a logging call writes to. Into the active run: the client that
    started it, without re-reading the tracking URI settings (as ``log_metric`` does)."""
    stack = _active_runs.get()
    if not run_id and stack and stack[-1]._client is not None:
        return stack[-1]._client, stack[-1]._run_id
    client = _get_client()
    return client, _active_run_id(run_id)
