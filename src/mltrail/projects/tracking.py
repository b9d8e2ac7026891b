"""The run a project executes in: its experiment, its tags, the variables that let the
project's own ``start_run()`` join it, and, for an embedded SQLite store, a loopback server
so that code importing the real ``mlflow`` logs into the same store.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail.entities import Run, SourceType
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.projects.run_client import ProjectClient
from mltrail.tracking import context

if TYPE_CHECKING:
    from mltrail.tracking.client import TrailClient
    from mltrail.tracking.fluent import ActiveRun

ENTRY_POINT_TAG = "mlflow.project.entryPoint"
ENV_TAG = "mlflow.project.env"
BACKEND_TAG = "mlflow.project.backend"
DOCKER_IMAGE_TAG = "mlflow.docker.image.uri"
VERSION_TAG = "mltrail.project.version"


def resolve_experiment(
    client: ProjectClient, experiment_name: str | None, experiment_id: str | None
) -> str:
    if experiment_name is not None and experiment_id is not None:
        raise InvalidParameter("Give --experiment-name or --experiment-id, not both.")
    if experiment_id is not None:
        try:
            experiment = client.get_experiment(str(experiment_id))
        except NotFound:
            raise NotFound(
                f"No experiment with id {experiment_id}; create it first "
                "(`mltrail experiments create -n NAME`) or use --experiment-name."
            ) from None
        if experiment.lifecycle_stage != "active":
            raise InvalidParameter(f"Experiment {experiment_id} is deleted.")
        return experiment.experiment_id
    if experiment_name is not None:
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            return client.create_experiment(experiment_name)
        if found.lifecycle_stage != "active":
            raise InvalidParameter(
                f"Experiment {experiment_name!r} is deleted; restore it or choose another name."
            )
        return found.experiment_id
    active, active_client = _active_run()
    if active is not None and active_client is not None and (
        active_client.tracking_uri == client.tracking_uri
    ):
        return active.info.experiment_id
    # MLflow's variables, read against this client's store (not the fluent API's).
    for var in ("MLTRAIL_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"):
        if os.environ.get(var):
            return resolve_experiment(client, os.environ[var], None)
    for var in ("MLTRAIL_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"):
        if os.environ.get(var):
            return resolve_experiment(client, None, os.environ[var])
    return "0"


def parent_run_id() -> str | None:
    """The run this one nests under: the caller's active run, or the project run this process
    is itself the command of (a workflow entry point calling others)."""
    active, _ = _active_run()
    if active is not None:
        return active.info.run_id
    return os.environ.get("MLTRAIL_RUN_ID") or os.environ.get("MLFLOW_RUN_ID") or None


def _active_run() -> tuple[ActiveRun | None, TrailClient | None]:
    """This process's active run and its client. Active runs live in the fluent API's module:
    if nothing has loaded it there is none, and ``mltrail run`` need not load it."""
    if "mltrail.tracking.fluent" not in sys.modules:
        return None, None
    from mltrail.tracking import fluent

    return fluent.active_run(), fluent.active_client()


@dataclass(frozen=True)
class RunTags:
    """What a project run is tagged with: source, entry point, git commit, repository and
    branch, version, parent run."""

    source_name: str
    entry_point: str
    commit: str | None = None
    repo_url: str | None = None
    branch: str | None = None
    version: str | None = None
    parent: str | None = None

    def as_dict(self) -> dict[str, str]:
        tags = {
            context.USER: context.current_user(),
            context.SOURCE_NAME: self.source_name,
            context.SOURCE_TYPE: SourceType.PROJECT,
            ENTRY_POINT_TAG: self.entry_point,
        }
        if self.commit:
            tags[context.GIT_COMMIT] = self.commit
        if self.repo_url:
            tags[context.GIT_REPO_URL] = self.repo_url
        if self.branch:
            tags[context.GIT_BRANCH] = self.branch
        if self.version:
            tags[VERSION_TAG] = self.version
        if self.parent:
            tags[context.PARENT_RUN_ID] = self.parent
        return tags


def start_project_run(
    client: ProjectClient,
    experiment_id: str,
    tags: RunTags,
    run_name: str | None,
    run_id: str | None,
) -> Run:
    """Create the run, or take over ``run_id`` (it must exist and not be deleted)."""
    if run_id:
        try:
            run = client.get_run(run_id)
        except NotFound:
            raise NotFound(f"Cannot resume run {run_id}: no run with that id exists.") from None
        if run.info.lifecycle_stage != "active":
            raise InvalidParameter(f"Cannot resume run {run_id}: it is deleted.")
        client.update_run(run_id, status="RUNNING", name=run_name)
        for key, value in tags.as_dict().items():
            client.set_tag(run_id, key, value, synchronous=True)
        return client.get_run(run_id)
    all_tags = tags.as_dict()
    if run_name:
        all_tags[context.RUN_NAME] = run_name
    return client.create_run(experiment_id, tags=all_tags, run_name=run_name)


def child_environment(
    base: dict[str, str], run: Run, tracking_uri: str, mlflow_uri: str, entry_point: str
) -> dict[str, str]:
    """The variables that make the command's ``start_run()`` join ``run``: mltrail's names
    and MLflow's. ``mlflow_uri`` is what the real mlflow client can reach (the loopback
    server for an embedded store)."""
    env = dict(base)
    for name in ("MLFLOW_EXPERIMENT_NAME", "MLTRAIL_EXPERIMENT_NAME"):
        env.pop(name, None)  # the run fixes the experiment
    env.update(
        {
            "MLTRAIL_RUN_ID": run.info.run_id,
            "MLFLOW_RUN_ID": run.info.run_id,
            "MLTRAIL_TRACKING_URI": tracking_uri,
            "MLFLOW_TRACKING_URI": mlflow_uri,
            "MLTRAIL_EXPERIMENT_ID": run.info.experiment_id,
            "MLFLOW_EXPERIMENT_ID": run.info.experiment_id,
            "MLFLOW_PROJECT_ENTRY_POINT": entry_point,
            "MLTRAIL_PROJECT": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class LoopbackServer:
    """mltrail's own server app on 127.0.0.1 and a free port, in a thread of this process,
    for the length of a run.

    The socket is bound and listening before anything else, so its address can be handed to
    the command at once: connections made before the app has finished loading wait in the
    socket's backlog. The web stack is loaded only when the first connection arrives, so a
    project whose code logs with mltrail itself (straight to SQLite) never pays for it.
    """

    def __init__(self, tracking_uri: str, artifact_root: str) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        # Written to by stop(): wakes the wait for a first connection at once.
        self._wake_r, self._wake_w = socket.socketpair()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server: Any = None
        self._error: BaseException | None = None
        self._stop_requested = False
        self._thread = threading.Thread(target=self._serve, name="mltrail-loopback",
                                        daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        import select

        try:
            readable, _, _ = select.select([self._sock, self._wake_r], [], [])
        finally:
            self._wake_r.close()
        if self._stop_requested or self._sock not in readable:
            self._sock.close()
            return
        try:
            import uvicorn

            from mltrail.server.app import create_app
            from mltrail.server.settings import ServerSettings

            settings = ServerSettings(
                backend_store_uri=self.tracking_uri,
                default_artifact_root=self.artifact_root,
                artifacts_destination=self.artifact_root,
                serve_artifacts=True,
                # `mltrail run` owns its run's status (it watches the process); a lease here
                # would also reap other writers' runs in the user's store.
                run_lease_seconds=None,
            )
            config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="off",
                                    access_log=False)
            self._server = uvicorn.Server(config)
            if self._stop_requested:  # the run ended before the server was up
                return
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # noqa: BLE001 - reported by wait_ready / stop
            self._error = exc
            sys.stderr.write(f"mltrail: the loopback tracking server failed: {exc}\n")
        finally:
            self._sock.close()

    def wait_ready(self) -> str:
        """The address to hand out (no waiting: see the class docstring)."""
        if self._error is not None:
            raise InvalidParameter(
                f"Could not start the loopback tracking server for this run: {self._error}"
            )
        return self.url

    def stop(self) -> None:
        self._stop_requested = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._wake_w.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
