"""Bytes in and out of the proxy's destination (a local folder or S3), always streamed.

An upload is written as it arrives to a temporary object in the destination itself (a hidden
``.upload-*`` file beside the target, or an S3 multipart upload) and only then renamed or
completed, so memory stays flat and nobody ever reads half a file.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any, Protocol

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, Response, StreamingResponse

from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact import get_artifact_repository
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.local import LocalArtifactRepository
from mltrail.store.artifact.s3 import S3ArtifactRepository

HAND_OFF_BYTES = 1024 * 1024  # bytes gathered before a write is handed to a worker thread

# Downloads are user content: never rendered inline, never sniffed, scripts sandboxed even if
# a browser is talked into showing them.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "no-store",
}


class Sink(Protocol):
    def write(self, data: bytes | bytearray) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def destination(request: Request) -> ArtifactRepository:
    """The repository of ``settings.artifacts_destination``, built once per app."""
    state = request.app.state
    repo = getattr(state, "artifact_destination_repo", None)
    if repo is None:
        repo = get_artifact_repository(state.settings.artifacts_destination)
        state.artifact_destination_repo = repo
    return repo


class LocalSink:
    """A hidden temporary file beside the target, renamed over it on commit."""

    def __init__(self, repo: LocalArtifactRepository, rel_path: str) -> None:
        target = repo.local_path(rel_path)
        if os.path.isdir(target):
            raise InvalidParameter(f"Cannot upload to '{rel_path}': it is a folder.")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Check again once the folders exist: one of them may have been swapped for a link.
        self.target = repo.local_path(rel_path)
        fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(self.target), prefix=".upload-")
        self.file = os.fdopen(fd, "wb")

    def write(self, data: bytes | bytearray) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        self.file.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


class SpooledSink:
    """Any other repository: spool to a temporary file, then hand it over whole."""

    def __init__(self, repo: ArtifactRepository, rel_path: str) -> None:
        self.repo, self.rel_path = repo, rel_path
        # Closed by commit or abort: the file lives across many writes.
        self.file = tempfile.NamedTemporaryFile(prefix="mltrail-upload-", delete=False)  # noqa: SIM115

    def write(self, data: bytes | bytearray) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.close()
        try:
            self.repo._put_file(self.file.name, self.rel_path)
        finally:
            os.unlink(self.file.name)

    def abort(self) -> None:
        self.file.close()
        os.unlink(self.file.name)


def open_sink(repo: ArtifactRepository, rel_path: str) -> Sink:
    if isinstance(repo, LocalArtifactRepository):
        return LocalSink(repo, rel_path)
    if isinstance(repo, S3ArtifactRepository):
        return repo.writer(rel_path)
    return SpooledSink(repo, rel_path)


async def receive(sink: Sink, chunks: AsyncIterator[bytes]) -> int:
    """Feed a request body into ``sink`` and commit it; abort on any failure (including the
    client going away). Returns the number of bytes stored."""
    total = 0
    try:
        pending = bytearray()
        async for chunk in chunks:
            pending += chunk
            total += len(chunk)
            if len(pending) >= HAND_OFF_BYTES:
                data, pending = pending, bytearray()
                await run_in_threadpool(sink.write, data)
        if pending:
            await run_in_threadpool(sink.write, pending)
        await run_in_threadpool(sink.commit)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(sink.abort)
        if isinstance(exc, ClientDisconnect):
            cut = "The upload was cut off before its end; nothing was stored."
            raise InvalidParameter(cut) from None
        raise
    return total


async def store_upload(repo: ArtifactRepository, rel_path: str, request: Request) -> int:
    if not rel_path:
        raise InvalidParameter("Cannot upload to the root of the artifact store: name a file.")
    sink = await run_in_threadpool(open_sink, repo, rel_path)
    return await receive(sink, request.stream())


def _media_type(rel_path: str) -> str:
    return mimetypes.guess_type(rel_path)[0] or "application/octet-stream"


def download_response(repo: ArtifactRepository, rel_path: str) -> Response:
    """A streamed response for the file at ``rel_path``: 404 if absent, 400 for a folder."""
    name = rel_path.rsplit("/", 1)[-1]
    if isinstance(repo, LocalArtifactRepository):
        full = repo.local_path(rel_path)
        if os.path.isdir(full):
            raise InvalidParameter(f"'{rel_path or '.'}' is a folder; list it instead.")
        path = repo.open_file(rel_path)
        return FileResponse(
            path,
            media_type=_media_type(rel_path),
            filename=name,
            headers=dict(DOWNLOAD_HEADERS),
        )
    if not isinstance(repo, S3ArtifactRepository):
        return _spooled_download(repo, rel_path, name)
    if repo.file_size(rel_path) is None:
        if repo.list_artifacts(rel_path):
            raise InvalidParameter(f"'{rel_path or '.'}' is a folder; list it instead.")
        raise NotFound(f"No artifact file at '{rel_path}'.")
    chunks, size = repo.open_stream(rel_path)
    headers = dict(DOWNLOAD_HEADERS)
    headers["Content-Length"] = str(size)
    headers["Content-Disposition"] = _attachment(name)
    return StreamingResponse(chunks, media_type=_media_type(rel_path), headers=headers)


def _spooled_download(repo: ArtifactRepository, rel_path: str, name: str) -> Response:
    from starlette.background import BackgroundTask

    folder = tempfile.mkdtemp(prefix="mltrail-download-")
    local = os.path.join(folder, "file")
    repo._get_file(rel_path, local)

    def cleanup() -> None:
        os.unlink(local)
        os.rmdir(folder)

    return FileResponse(
        local,
        media_type=_media_type(rel_path),
        filename=name,
        headers=dict(DOWNLOAD_HEADERS),
        background=BackgroundTask(cleanup),
    )


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=utf-8''{quote(name)}"


def listing(repo: ArtifactRepository, rel_dir: str) -> dict[str, Any]:
    """MLflow's proxy listing: direct children as basenames; ``{}`` when there are none."""
    files = []
    for info in repo.list_artifacts(rel_dir):
        entry: dict[str, Any] = {"path": info.path.rsplit("/", 1)[-1], "is_dir": info.is_dir}
        if not info.is_dir and info.file_size is not None:
            entry["file_size"] = info.file_size
        files.append(entry)
    return {"files": files} if files else {}
