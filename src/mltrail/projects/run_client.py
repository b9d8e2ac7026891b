"""What ``mltrail run`` keeps its run with: a ``TrailClient``, or on an existing SQLite store
the lighter ``SqliteRunBook`` (see ``sqlite_book``). Both answer ``ProjectClient``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mltrail.entities import Metric, Param, Run, RunTag


class ExperimentLike(Protocol):
    @property
    def experiment_id(self) -> str: ...

    @property
    def lifecycle_stage(self) -> str: ...


class ProjectClient(Protocol):
    """The part of ``TrailClient`` a project run uses."""

    tracking_uri: str

    def get_experiment(self, experiment_id: str) -> ExperimentLike: ...

    def get_experiment_by_name(self, name: str) -> ExperimentLike | None: ...

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str: ...

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run: ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run(
        self, run_id: str, status: str | None = None, name: str | None = None
    ) -> None: ...

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> Any: ...

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> Any: ...

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None: ...

    def log_artifact(
        self, run_id: str, local_path: str, artifact_path: str | None = None
    ) -> None: ...


def open_project_client(tracking_uri: str | None, backend: str) -> ProjectClient:
    """The book for a local run on an existing SQLite store at the current schema, else a
    ``TrailClient`` (``MLTRAIL_PROJECT_FULL_CLIENT=1`` always takes the latter)."""
    from mltrail.projects.sqlite_book import SqliteRunBook
    from mltrail.tracking.uri import get_tracking_uri, normalize_tracking_uri

    uri = normalize_tracking_uri(tracking_uri) if tracking_uri else get_tracking_uri()
    if backend == "local" and os.environ.get("MLTRAIL_PROJECT_FULL_CLIENT", "") in ("", "0"):
        book = SqliteRunBook.open(uri)
        if book is not None:
            return book
    from mltrail.tracking.client import TrailClient  # the whole client only when needed

    return TrailClient(uri)
