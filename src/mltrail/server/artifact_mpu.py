"""Multipart uploads through the proxy: MLflow's ``mpu/create|complete|abort`` protocol.

With an S3 destination the client sends parts straight to S3 through presigned URLs. With a
local destination the parts come back to this server (``mpu/part/<upload_id>/<n>``), are staged
in a hidden folder of the destination (same filesystem, so the final rename is cheap) and are
joined on ``complete``. The random upload id is what lets a client write parts, as a presigned
URL would: the MLflow client sends parts without its credentials.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.server.artifact_io import LocalSink
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.local import LocalArtifactRepository
from mltrail.store.artifact.paths import safe_relative_path
from mltrail.store.artifact.s3 import S3ArtifactRepository, upload_extra_args
from mltrail.store.artifact.s3_multipart import (
    abort_upload,
    complete_upload,
    create_presigned_upload,
    presigned_download,
)

STAGING = ".upload-mpu"  # hidden from listings, like every ".upload-" name
MAX_PARTS = 10000
STALE_SECONDS = 7 * 24 * 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
UNSUPPORTED_DOWNLOAD = "Multipart download is not supported for the current artifact repository"


def file_name(client_path: object) -> str:
    """The body's ``path`` names the client's file: only its last segment counts."""
    if not isinstance(client_path, str) or not client_path:
        raise InvalidParameter("Missing value for required parameter 'path'.")
    # Clients before MLflow 3.18 sent their whole local path; it is checked like any artifact
    # path (every decoding of '..', NUL), though only the last segment is used.
    local = re.sub(r"^[A-Za-z]:[\\/]", "/", client_path)  # a Windows client's "C:\\..."
    safe_relative_path(local.replace("\\", "/").lstrip("/"))
    name = client_path.replace("\\", "/").rsplit("/", 1)[-1]
    if not name or safe_relative_path(name) != name:
        raise InvalidParameter(f"Invalid file name {name!r}.")
    return name


def _staging(repo: LocalArtifactRepository, upload_id: object) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise InvalidParameter("Invalid upload_id.")
    return repo.local_path(f"{STAGING}/{upload_id}")


def _unsupported() -> MltrailException:
    return MltrailException(UNSUPPORTED, error_code="NOT_IMPLEMENTED")


def create(
    repo: ArtifactRepository, rel_path: str, num_parts: object, part_url: str
) -> dict[str, Any]:
    if isinstance(num_parts, bool) or not isinstance(num_parts, int | str):
        raise InvalidParameter("num_parts must be an integer.")
    try:
        count = int(num_parts)
    except ValueError:
        raise InvalidParameter("num_parts must be an integer.") from None
    if not 1 <= count <= MAX_PARTS:
        raise InvalidParameter(f"num_parts must be between 1 and {MAX_PARTS}, got {count}.")
    if isinstance(repo, S3ArtifactRepository):
        upload_id, urls = create_presigned_upload(
            repo.client, repo.bucket, repo.key(rel_path), count, upload_extra_args()
        )
        credentials = [{"url": url, "part_number": n, "headers": []} for n, url in urls]
        return {"upload_id": upload_id, "credentials": credentials}
    if not isinstance(repo, LocalArtifactRepository):
        raise _unsupported()
    _purge_stale(repo)
    upload_id = secrets.token_hex(16)
    staging = _staging(repo, upload_id)
    os.makedirs(staging)
    with open(os.path.join(staging, "target"), "w", encoding="utf-8") as f:
        f.write(rel_path)
    credentials = [
        {"url": f"{part_url}/{upload_id}/{n}", "part_number": n, "headers": []}
        for n in range(1, count + 1)
    ]
    return {"upload_id": upload_id, "credentials": credentials}


def _purge_stale(repo: LocalArtifactRepository) -> None:
    """Forget uploads abandoned long ago (a client that died between create and complete)."""
    root = repo.local_path(STAGING)
    if not os.path.isdir(root):
        return
    cutoff = time.time() - STALE_SECONDS
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)


class PartSink(LocalSink):
    """One staged part; its MD5 becomes the ETag the client hands back on complete."""

    def __init__(self, repo: LocalArtifactRepository, upload_id: str, number: int) -> None:
        staging = _staging(repo, upload_id)
        if not os.path.isfile(os.path.join(staging, "target")):
            raise NotFound(f"No multipart upload with id {upload_id}.")
        if not 1 <= number <= MAX_PARTS:
            raise InvalidParameter(f"Part numbers go from 1 to {MAX_PARTS}, got {number}.")
        super().__init__(repo, f"{STAGING}/{upload_id}/{number}.part")
        self.digest = hashlib.md5(usedforsecurity=False)

    def write(self, data: bytes | bytearray) -> None:
        self.digest.update(data)
        super().write(data)

    def commit(self) -> None:
        super().commit()
        with open(self.target[: -len(".part")] + ".etag", "w", encoding="ascii") as f:
            f.write(self.etag)

    @property
    def etag(self) -> str:
        return f'"{self.digest.hexdigest()}"'


def open_part(repo: ArtifactRepository, upload_id: str, number: int) -> PartSink:
    if not isinstance(repo, LocalArtifactRepository):
        raise _unsupported()
    return PartSink(repo, upload_id, number)


def _parts(raw: object) -> list[tuple[int, str]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter("Missing value for required parameter 'parts'.")
    parts = []
    for item in raw:
        number = item.get("part_number") if isinstance(item, dict) else None
        if isinstance(number, bool) or not isinstance(number, int | str):
            raise InvalidParameter("Each part needs an integer part_number.")
        try:
            parts.append((int(number), str(item.get("etag") or "")))
        except ValueError:
            raise InvalidParameter("Each part needs an integer part_number.") from None
    numbers = [n for n, _ in parts]
    if len(set(numbers)) != len(numbers):
        raise InvalidParameter("Each part_number may appear only once.")
    return sorted(parts)


def complete(repo: ArtifactRepository, rel_path: str, upload_id: object, raw: object) -> None:
    parts = _parts(raw)
    if isinstance(repo, S3ArtifactRepository):
        complete_upload(repo.client, repo.bucket, repo.key(rel_path), str(upload_id), parts)
        return
    if not isinstance(repo, LocalArtifactRepository):
        raise _unsupported()
    staging = _staging(repo, upload_id)
    _check_target(staging, rel_path, upload_id)
    files = []
    for number, etag in parts:
        part = os.path.join(staging, f"{number}.part")
        if not os.path.isfile(part):
            raise InvalidParameter(f"Part {number} of upload {upload_id} was never uploaded.")
        with open(os.path.join(staging, f"{number}.etag"), encoding="ascii") as f:
            if etag and etag.strip('"') != f.read().strip('"'):
                raise InvalidParameter(f"The ETag of part {number} does not match.")
        files.append(part)
    sink = LocalSink(repo, rel_path)
    try:
        for part in files:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, sink.file, 8 * 1024 * 1024)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    shutil.rmtree(staging, ignore_errors=True)


def abort(repo: ArtifactRepository, rel_path: str, upload_id: object) -> None:
    if isinstance(repo, S3ArtifactRepository):
        abort_upload(repo.client, repo.bucket, repo.key(rel_path), str(upload_id))
        return
    if not isinstance(repo, LocalArtifactRepository):
        raise _unsupported()
    staging = _staging(repo, upload_id)
    if os.path.isdir(staging):
        _check_target(staging, rel_path, upload_id)
        shutil.rmtree(staging, ignore_errors=True)


def _check_target(staging: str, rel_path: str, upload_id: object) -> None:
    try:
        with open(os.path.join(staging, "target"), encoding="utf-8") as f:
            target = f.read()
    except FileNotFoundError:
        raise NotFound(f"No multipart upload with id {upload_id}.") from None
    if target != rel_path:
        raise InvalidParameter(f"Upload {upload_id} was created for another path.")


def presigned_get(repo: ArtifactRepository, rel_path: str) -> dict[str, Any]:
    """A URL the client can fetch ranges of in parallel (S3 only)."""
    if not isinstance(repo, S3ArtifactRepository):
        raise MltrailException(UNSUPPORTED_DOWNLOAD, error_code="NOT_IMPLEMENTED")
    size = repo.file_size(rel_path)
    if size is None:
        raise NotFound(f"No artifact file at '{rel_path}'.")
    url = presigned_download(repo.client, repo.bucket, repo.key(rel_path))
    return {"url": url, "headers": [], "file_size": size}
