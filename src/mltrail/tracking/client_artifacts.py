"""The artifact part of ``TrailClient``: where each run's files go, and the calls that put
files there or read them back."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, InvalidParameterType, LocalFileNotFound
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.base import TrackingStore
from mltrail.tracking import artifact_files

_MAX_REMEMBERED_URIS = 10_000


class RunArtifacts:
    """One client's artifact calls, over its store (for each run's artifact URI) and its
    tracking URI (which resolves relative artifact locations)."""

    def __init__(self, store: TrackingStore, tracking_uri: str) -> None:
        self._store = store
        self._tracking_uri = tracking_uri
        self._uris: dict[str, str] = {}

    def artifact_uri(self, run_id: str) -> str:
        uri = self._uris.get(run_id)
        if uri is None:
            uri = self.remember(run_id, self._store.get_run(run_id).info.artifact_uri)
        return uri

    def remember(self, run_id: str, uri: str) -> str:
        # A cache (artifact calls skip a run read), emptied when full: a process may make
        # runs by the million.
        if len(self._uris) >= _MAX_REMEMBERED_URIS:
            self._uris.clear()
        self._uris[run_id] = uri
        return uri

    def repository(self, run_id: str) -> ArtifactRepository:
        from mltrail.store.artifact import get_artifact_repository

        return get_artifact_repository(self.artifact_uri(run_id), self._tracking_uri)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None) -> None:
        local_path = os.fspath(local_path)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            target = f"{artifact_path}/{name}" if artifact_path else name
            self.repository(run_id).log_artifacts(local_path, target)
        elif os.path.isfile(local_path):
            self.repository(run_id).log_artifact(local_path, artifact_path)
        else:
            raise LocalFileNotFound(f"Cannot log artifact: no file or folder at {local_path!r}.")

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None) -> None:
        local_dir = os.fspath(local_dir)
        if not os.path.isdir(local_dir):
            # MLflow logs nothing and says nothing; a typo in a path should not pass unseen.
            raise LocalFileNotFound(f"Cannot log artifacts: no folder at {local_dir!r}.")
        self.repository(run_id).log_artifacts(local_dir, artifact_path)

    def log_object(self, run_id: str, artifact_file: str, what: str, obj: Any) -> None:
        """Write ``obj`` as ``artifact_file`` with the writer named ``what`` (``text``,
        ``dict``, ``figure`` or ``image``; see ``artifact_files``)."""
        from mltrail.store.artifact.paths import safe_relative_path

        if what == "image" and not artifact_file:
            raise InvalidParameterType("log_image needs artifact_file, e.g. 'sample.png'.")
        rel = safe_relative_path(artifact_file)
        if not rel:
            raise InvalidParameter("artifact_file must name a file, e.g. 'notes.txt'.")
        writer = getattr(artifact_files, f"write_{what}")
        folder, _, name = rel.rpartition("/")
        with tempfile.TemporaryDirectory(prefix="mltrail-") as tmp:
            path = writer(tmp, name, obj)
            self.repository(run_id).log_artifact(path, folder or None)

    def list_artifacts(self, run_id: str, path: str | None) -> list[FileInfo]:
        return self.repository(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None) -> str:
        return self.repository(run_id).download_artifacts(path, dst_path)
