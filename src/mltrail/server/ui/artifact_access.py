"""Where a run's artifacts are, for the UI, and reading them as local files.

The server reads only storage it was configured with (security rule 2: a run's artifact URI
is client-supplied, a reference, never an instruction): ``mlflow-artifacts:/...`` URIs map
into ``settings.artifacts_destination``; other URIs must lie under
``settings.default_artifact_root`` or the destination. Anything else is refused with a clear
sentence.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact import get_artifact_repository
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.paths import join, safe_relative_path


@dataclass(frozen=True)
class RunArtifacts:
    """A run's artifacts: a repository and the run's folder inside it."""

    repo: ArtifactRepository
    root: str

    def path(self, rel: str | None) -> str:
        """The repository path of a path relative to the run's artifact folder."""
        return join(self.root, safe_relative_path(rel))

    def list(self, rel: str | None) -> list[FileInfo]:
        """Children of a folder, with paths relative to the run's artifact folder."""
        prefix = self.root + "/" if self.root else ""
        return [
            FileInfo(f.path[len(prefix) :], f.is_dir, f.file_size)
            for f in self.repo.list_artifacts(self.path(rel))
        ]

    def size(self, rel: str) -> int | None:
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for entry in self.list(parent):
            if entry.path == rel:
                return None if entry.is_dir else entry.file_size
        raise NotFound(f"No artifact at '{rel}'.")

    @contextlib.contextmanager
    def local_file(self, rel: str) -> Iterator[str]:
        """A local path holding the file's bytes (the file itself when stored locally)."""
        path = self.path(rel)
        open_file = getattr(self.repo, "open_file", None)
        if open_file is not None:
            yield open_file(path)
            return
        folder = tempfile.mkdtemp(prefix="mltrail-ui-")
        try:
            yield self.repo.download_artifacts(path, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def local_folder(self, rel: str) -> Iterator[str]:
        """A local folder holding a copy of an artifact folder, removed afterwards."""
        folder = tempfile.mkdtemp(prefix="mltrail-ui-zip-")
        try:
            yield self.repo.download_artifacts(self.path(rel), folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


_repos: dict[str, ArtifactRepository] = {}


def _repository(uri: str) -> ArtifactRepository:
    repo = _repos.get(uri)
    if repo is None:
        repo = _repos[uri] = get_artifact_repository(uri)
    return repo


def run_artifacts(settings: Any, artifact_uri: str) -> RunArtifacts:
    """The repository and folder of a run whose artifact URI is ``artifact_uri``."""
    parts = urlsplit(artifact_uri)
    if parts.scheme.lower() == "mlflow-artifacts":
        if parts.query or parts.fragment:
            raise InvalidParameter(f"Invalid artifact URI {artifact_uri!r}.")
        destination = settings.artifacts_destination
        return RunArtifacts(_repository(destination), safe_relative_path(parts.path.lstrip("/")))
    # Plain URIs: under the default artifact root, or under the destination (what a local
    # script logging straight to the database writes, next to `mltrail ui`'s defaults).
    for configured in (settings.default_artifact_root, settings.artifacts_destination):
        root = configured.rstrip("/")
        if root.startswith("mlflow-artifacts:"):
            continue
        prefixes = {root} if "://" in root else {root, os.path.abspath(root)}
        for prefix in prefixes:
            if artifact_uri.startswith(prefix + "/"):
                rel = safe_relative_path(artifact_uri[len(prefix) + 1 :])
                return RunArtifacts(_repository(prefix), rel)
    raise InvalidParameter(
        f"This run's artifacts are stored at {artifact_uri!r}, outside the storage this "
        "server was configured with, so the UI cannot show them."
    )
