"""S3 multipart uploads: streaming a body of unknown length into one object with bounded
memory, and the presigned-URL protocol the MLflow client uses for very large files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PART_BYTES = 16 * 1024 * 1024  # S3 allows 10,000 parts: objects up to 160 GB
PRESIGN_SECONDS = 3600


class S3StreamWriter:
    """``write`` chunks as they arrive, then ``commit`` (or ``abort``). About one part is held
    in memory at a time; a body smaller than one part becomes a single PUT."""

    def __init__(self, client: Any, bucket: str, key: str, extra: dict[str, Any]) -> None:
        self.client, self.bucket, self.key, self.extra = client, bucket, key, extra
        self._chunks: list[bytes] = []
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes | bytearray) -> None:
        self._chunks.append(bytes(data))
        self._size += len(data)
        if self._size >= PART_BYTES:
            # Parts may differ in size (only the 5 MB minimum matters): sending all that is
            # held, rather than cutting exactly, saves copying the part again.
            self._send_part(self._take())

    def _take(self) -> bytes:
        blob = b"".join(self._chunks)
        self._chunks, self._size = [], 0
        return blob

    def _send_part(self, part: bytes) -> None:
        if self._upload_id is None:
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.extra
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def commit(self) -> None:
        if self._upload_id is None:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=self._take(), **self.extra
            )
        else:
            if self._size:
                self._send_part(self._take())
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        self._chunks, self._size = [], 0
        if self._upload_id is not None:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
            )
            self._upload_id = None


def create_presigned_upload(
    client: Any, bucket: str, key: str, num_parts: int, extra: dict[str, Any]
) -> tuple[str, list[tuple[int, str]]]:
    """Start a multipart upload; return its id and one presigned PUT URL per part."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    urls = [
        (
            number,
            client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=PRESIGN_SECONDS,
            ),
        )
        for number in range(1, num_parts + 1)
    ]
    return upload_id, urls


def complete_upload(
    client: Any, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
) -> None:
    ordered = sorted(parts)
    client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in ordered]},
    )


def abort_upload(client: Any, bucket: str, key: str, upload_id: str) -> None:
    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def presigned_download(client: Any, bucket: str, key: str) -> str:
    return str(
        client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
        )
    )
