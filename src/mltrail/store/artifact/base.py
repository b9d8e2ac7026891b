"""Artifact repositories: a template in which subclasses supply a few primitives.

The base class owns recursion, path safety and the shape of results; a backend implements
``_put_file``, ``_get_file``, ``_list`` and ``_delete`` on paths relative to its root, which
have already been checked by ``safe_relative_path``.
"""

from __future__ import annotations

import abc
import os
import tempfile

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.paths import join, safe_relative_path


class ArtifactRepository(abc.ABC):
    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    # -- primitives ----------------------------------------------------------------------
    @abc.abstractmethod
    def _put_file(self, local_file: str, rel_path: str) -> None:
        """Store one local file at ``rel_path`` (atomically: whole or not at all)."""

    @abc.abstractmethod
    def _get_file(self, rel_path: str, local_file: str) -> None:
        """Write the stored file at ``rel_path`` to ``local_file``; ``NotFound`` if absent."""

    @abc.abstractmethod
    def _list(self, rel_dir: str) -> list[FileInfo]:
        """Direct children of ``rel_dir``, with paths relative to the root; [] if absent."""

    @abc.abstractmethod
    def _delete(self, rel_path: str) -> None:
        """Remove a file or a whole folder."""

    # -- public API ----------------------------------------------------------------------
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        if not os.path.isfile(local_file):
            raise InvalidParameter(f"Cannot log artifact: {local_file!r} is not a file.")
        rel_dir = safe_relative_path(artifact_path)
        self._put_file(local_file, join(rel_dir, os.path.basename(local_file)))

    def log_bytes(self, data: bytes | memoryview, artifact_file: str) -> None:
        """Store ``data`` as the file ``artifact_file`` (a path relative to the root, ending in
        the file's name), atomically as ``log_artifact`` does, without a local file first."""
        rel = safe_relative_path(artifact_file)
        if not rel:
            raise InvalidParameter("artifact_file must name a file, e.g. 'notes.txt'.")
        self._put_bytes(data, rel)

    def _put_bytes(self, data: bytes | memoryview, rel_path: str) -> None:
        """Store bytes at ``rel_path``; by default through a temporary local file."""
        with tempfile.TemporaryDirectory(prefix="mltrail-") as tmp:
            local = os.path.join(tmp, rel_path.rsplit("/", 1)[-1])
            with open(local, "wb") as fh:
                fh.write(data)
            self._put_file(local, rel_path)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        if not os.path.isdir(local_dir):
            raise InvalidParameter(f"Cannot log artifacts: {local_dir!r} is not a folder.")
        rel_root = safe_relative_path(artifact_path)
        for dirpath, _dirnames, filenames in os.walk(local_dir):
            rel = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
            if not filenames:  # an empty folder is kept (as MLflow's local store keeps it)
                folder = safe_relative_path(join(rel_root, "" if rel == "." else rel))
                if folder:
                    self._make_dir(folder)
            for name in filenames:
                target = join(rel_root, "" if rel == "." else rel, name)
                self._put_file(os.path.join(dirpath, name), safe_relative_path(target))

    def _make_dir(self, rel_path: str) -> None:
        """Make an empty folder; stores without folders (S3, the proxy) keep none, as in
        MLflow."""
        return None

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        return sorted(self._list(safe_relative_path(path)), key=lambda f: f.path)

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Download a file or folder; returns the local path of what was downloaded."""
        rel = safe_relative_path(artifact_path)
        dst_root = dst_path or tempfile.mkdtemp(prefix="mltrail-download-")
        os.makedirs(dst_root, exist_ok=True)
        if rel and self._is_file(rel):
            local = os.path.join(dst_root, os.path.basename(rel))
            self._get_file(rel, local)
            return local
        children = self._list(rel)
        if rel and not children:
            raise NotFound(f"No artifact at '{rel}' under {self.artifact_uri}.")
        target = os.path.join(dst_root, os.path.basename(rel)) if rel else dst_root
        self._download_dir(rel, target, children)
        return target

    def _download_dir(self, rel: str, target: str, children: list[FileInfo]) -> None:
        os.makedirs(target, exist_ok=True)
        for child in children:
            local = os.path.join(target, os.path.basename(child.path))
            if child.is_dir:
                self._download_dir(child.path, local, self._list(child.path))
            else:
                self._get_file(child.path, local)

    def _is_file(self, rel: str) -> bool:
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        return any(f.path == rel and not f.is_dir for f in self._list(parent))

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        self._delete(safe_relative_path(artifact_path))
