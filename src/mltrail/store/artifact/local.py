"""Artifacts in a local folder (``file://`` URIs and plain paths)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from urllib.parse import unquote, urlparse

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.base import ArtifactRepository


def local_path_from_uri(uri: str) -> str:
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameter(f"Unsupported file URI {uri!r}: only local files are allowed.")
        return unquote(parsed.path)
    return uri


class LocalArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root = os.path.abspath(local_path_from_uri(artifact_uri))

    def _full(self, rel_path: str) -> str:
        # Containment check at the storage layer: symlinks inside the root must not lead out.
        full = os.path.join(self.root, rel_path) if rel_path else self.root
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(full)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidParameter(f"Invalid artifact path '{rel_path}': it leaves the root.")
        return full

    def _put_file(self, local_file: str, rel_path: str) -> None:
        self._replace(rel_path, lambda _fd, tmp: shutil.copyfile(local_file, tmp))

    def _put_bytes(self, data: bytes | memoryview, rel_path: str) -> None:
        def write(fd: int, _tmp: str) -> None:
            with open(fd, "wb", closefd=False) as fh:
                fh.write(data)

        self._replace(rel_path, write)  # straight into the folder: no scratch file, no copy

    def _replace(self, rel_path: str, fill: Callable[[int, str], object]) -> None:
        """Store a file at ``rel_path`` that ``fill`` writes, given the open descriptor and
        the path of a new file next to the target."""
        target = self._full(rel_path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Write under a temporary name, then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".upload-")
        try:
            try:
                fill(fd, tmp)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _make_dir(self, rel_path: str) -> None:
        os.makedirs(self._full(rel_path), exist_ok=True)

    def _get_file(self, rel_path: str, local_file: str) -> None:
        source = self._full(rel_path)
        if not os.path.isfile(source):
            raise NotFound(f"No artifact file at '{rel_path}'.")
        shutil.copyfile(source, local_file)

    def _list(self, rel_dir: str) -> list[FileInfo]:
        folder = self._full(rel_dir)
        if not os.path.isdir(folder):
            return []
        found = []
        for entry in os.scandir(folder):
            if entry.name.startswith(".upload-"):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir():
                found.append(FileInfo(rel, True, None))
            else:
                found.append(FileInfo(rel, False, entry.stat().st_size))
        return found

    def _is_file(self, rel: str) -> bool:
        return os.path.isfile(self._full(rel))

    def _delete(self, rel_path: str) -> None:
        target = self._full(rel_path)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.unlink(target)
        else:
            raise NotFound(f"No artifact at '{rel_path}'.")

    def local_path(self, rel_path: str) -> str:
        """Absolute path for ``rel_path``, checked to stay inside the root (may not exist)."""
        return self._full(rel_path)

    def open_file(self, rel_path: str) -> str:
        """Local path of a stored file, for streaming it out (server side)."""
        full = self._full(rel_path)
        if not os.path.isfile(full):
            raise NotFound(f"No artifact file at '{rel_path}'.")
        return full
