"""Artifacts in S3 or an S3-compatible store (MinIO) through boto3.

``MLFLOW_S3_ENDPOINT_URL`` (or ``MLTRAIL_S3_ENDPOINT_URL``) points at MinIO; credentials come
from the usual AWS variables and files; ``MLFLOW_S3_IGNORE_TLS`` turns off certificate checks.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.paths import join, safe_relative_path

if TYPE_CHECKING:
    from mltrail.store.artifact.s3_multipart import S3StreamWriter

READ_CHUNK_BYTES = 1024 * 1024

_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


def _env(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``); the prefix is checked."""
    parsed = urlsplit(uri)
    if parsed.scheme.lower() != "s3" or not parsed.netloc:
        raise InvalidParameter(f"Malformed S3 URI {uri!r}: expected s3://bucket/prefix.")
    if parsed.query or parsed.fragment:
        raise InvalidParameter(f"Malformed S3 URI {uri!r}: no ?query or #fragment allowed.")
    return parsed.netloc, safe_relative_path(parsed.path.lstrip("/"))


def s3_client() -> Any:
    """A shared boto3 S3 client for the current endpoint settings (clients are thread-safe and
    slow to build, so one per configuration and process)."""
    endpoint = _env("MLTRAIL_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
    ignore_tls = (_env("MLTRAIL_S3_IGNORE_TLS", "MLFLOW_S3_IGNORE_TLS") or "").lower()
    verify = ignore_tls not in ("1", "true", "yes")
    key = (endpoint, verify, os.getpid(), os.environ.get("AWS_ACCESS_KEY_ID"))
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _build_client(endpoint, verify)
    return client


def _build_client(endpoint: str | None, verify: bool) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InvalidParameter("S3 artifacts need boto3: pip install 'mltrail[s3]'.") from None
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=32,
        # MinIO and most S3-compatible servers want bucket names in the path.
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint, verify=verify, config=config)


def _is_missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def upload_extra_args() -> dict[str, Any]:
    extra: dict[str, Any] = {}
    raw = _env("MLTRAIL_S3_UPLOAD_EXTRA_ARGS", "MLFLOW_S3_UPLOAD_EXTRA_ARGS")
    if raw:
        try:
            extra.update(json.loads(raw))
        except ValueError:
            raise InvalidParameter("MLFLOW_S3_UPLOAD_EXTRA_ARGS must be a JSON object.") from None
    owner = _env("MLTRAIL_S3_EXPECTED_BUCKET_OWNER", "MLFLOW_S3_EXPECTED_BUCKET_OWNER")
    if owner:
        extra["ExpectedBucketOwner"] = owner
    return extra


class S3ArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri.rstrip("/"))
        self.bucket, self.prefix = parse_s3_uri(self.artifact_uri)
        self.client = s3_client()

    def key(self, rel_path: str) -> str:
        return join(self.prefix, rel_path)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def _owner_args(self) -> dict[str, Any]:
        owner = upload_extra_args().get("ExpectedBucketOwner")
        return {"ExpectedBucketOwner": owner} if owner else {}

    # -- primitives ----------------------------------------------------------------------
    def _put_file(self, local_file: str, rel_path: str) -> None:
        # upload_file switches to a parallel multipart upload above 8 MB; S3 shows the object
        # only once it is complete, so readers never see half a file.
        self.client.upload_file(
            local_file, self.bucket, self.key(rel_path), ExtraArgs=upload_extra_args()
        )

    def _get_file(self, rel_path: str, local_file: str) -> None:
        folder = os.path.dirname(os.path.abspath(local_file))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
        os.close(fd)
        try:
            self.client.download_file(
                self.bucket, self.key(rel_path), tmp, ExtraArgs=self._owner_args() or None
            )
            os.replace(tmp, local_file)
        except Exception as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if _is_missing(exc):
                missing = f"No artifact file at '{rel_path}' under {self.artifact_uri}."
                raise NotFound(missing) from None
            raise

    def _list(self, rel_dir: str) -> list[FileInfo]:
        folder_key = self.key(rel_dir)
        prefix = folder_key + "/" if folder_key else ""
        found: list[FileInfo] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/", **self._owner_args()
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                found.append(FileInfo(self._rel(common["Prefix"].rstrip("/")), True, None))
            for obj in page.get("Contents", []):
                if obj["Key"] != prefix:  # a "folder marker" object, not a file
                    found.append(FileInfo(self._rel(obj["Key"]), False, int(obj["Size"])))
        return found

    def _is_file(self, rel: str) -> bool:
        return self.file_size(rel) is not None

    def _delete(self, rel_path: str) -> None:
        key = self.key(rel_path)
        # Whole-segment match only: deleting "foo" must not touch "foobar" or "foo_baz.txt".
        keys = [key] if rel_path and self.file_size(rel_path) is not None else []
        keys += list(self._keys_under(key + "/" if key else ""))
        if not keys:
            raise NotFound(f"No artifact at '{rel_path}' under {self.artifact_uri}.")
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}, **self._owner_args()
            )

    def _keys_under(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, **self._owner_args()
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"]

    # -- used by the server's artifact proxy ---------------------------------------------
    def file_size(self, rel_path: str) -> int | None:
        """Size of the stored file, or ``None`` if there is no file at ``rel_path``."""
        if not rel_path:
            return None
        try:
            head = self.client.head_object(
                Bucket=self.bucket, Key=self.key(rel_path), **self._owner_args()
            )
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    def open_stream(self, rel_path: str) -> tuple[Iterator[bytes], int]:
        """The stored file as an iterator of chunks (read as they are sent) and its size."""
        try:
            obj = self.client.get_object(
                Bucket=self.bucket, Key=self.key(rel_path), **self._owner_args()
            )
        except Exception as exc:
            if _is_missing(exc):
                raise NotFound(f"No artifact file at '{rel_path}'.") from None
            raise
        return obj["Body"].iter_chunks(READ_CHUNK_BYTES), int(obj["ContentLength"])

    def writer(self, rel_path: str) -> S3StreamWriter:
        from mltrail.store.artifact.s3_multipart import S3StreamWriter

        return S3StreamWriter(self.client, self.bucket, self.key(rel_path), upload_extra_args())
