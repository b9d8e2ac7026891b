"""S3ArtifactRepository against a real moto S3 server process (boto3 as the real client)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltrail.artifacts import get_artifact_repository
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.s3 import S3ArtifactRepository, parse_s3_uri, s3_client
from mltrail.store.artifact.s3_multipart import PART_BYTES


def keys(bucket: str) -> list[str]:
    answer = s3_client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    for bad in ("s3:///nobucket", "s3://b/../x", "s3://b/x?versionId=1", "gs://b/x"):
        with pytest.raises(InvalidParameter):
            parse_s3_uri(bad)


def test_round_trip(s3_bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(2048))
    repo = get_artifact_repository(f"s3://{s3_bucket}/exp/run/artifacts")
    assert isinstance(repo, S3ArtifactRepository)
    repo.log_artifacts(str(src), "model")
    repo.log_artifact(str(src / "a.txt"))
    assert keys(s3_bucket) == [
        "exp/run/artifacts/a.txt",
        "exp/run/artifacts/model/a.txt",
        "exp/run/artifacts/model/sub/b.bin",
    ]
    listed = [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()]
    assert listed == [("a.txt", False, 5), ("model", True, None)]
    assert [f.path for f in repo.list_artifacts("model")] == ["model/a.txt", "model/sub"]
    assert repo.list_artifacts("nothing") == []

    out = Path(repo.download_artifacts("model", str(tmp_path / "out")))
    assert (out / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert Path(repo.download_artifacts("a.txt", str(tmp_path / "one"))).read_text() == "alpha"
    with pytest.raises(NotFound):
        repo.download_artifacts("model/nope.txt", str(tmp_path / "none"))


def test_log_bytes_goes_through_the_store(s3_bucket: str, tmp_path: Path) -> None:
    repo = get_artifact_repository(f"s3://{s3_bucket}/run/artifacts")
    repo.log_bytes(b"weights", "checkpoints/latest.pth")
    assert keys(s3_bucket) == ["run/artifacts/checkpoints/latest.pth"]
    out = repo.download_artifacts("checkpoints/latest.pth", str(tmp_path / "out"))
    assert Path(out).read_bytes() == b"weights"


def test_delete_matches_whole_segments_only(s3_bucket: str, tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    repo = S3ArtifactRepository(f"s3://{s3_bucket}/root")
    for folder in ("foo", "foobar", "foo/inner"):
        repo.log_artifact(str(f), folder)
    repo.log_artifact(str(f))
    repo.delete_artifacts("foo")
    assert keys(s3_bucket) == ["root/f.txt", "root/foobar/f.txt"]
    with pytest.raises(NotFound):
        repo.delete_artifacts("foo")
    repo.delete_artifacts("f.txt")
    assert keys(s3_bucket) == ["root/foobar/f.txt"]


def test_big_file_goes_up_in_parts(s3_bucket: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    repo = S3ArtifactRepository(f"s3://{s3_bucket}/p")
    repo.log_artifact(str(big))
    head = s3_client().head_object(Bucket=s3_bucket, Key="p/big.bin")
    assert "-" in head["ETag"]  # a multipart ETag: "<md5 of md5s>-<parts>"
    back = repo.download_artifacts("big.bin", str(tmp_path / "back"))
    assert Path(back).read_bytes() == big.read_bytes()


def test_stream_writer_small_and_multipart(s3_bucket: str) -> None:
    repo = S3ArtifactRepository(f"s3://{s3_bucket}/w")
    small = repo.writer("small.txt")
    small.write(b"tiny")
    small.commit()
    assert repo.file_size("small.txt") == 4

    body = os.urandom(PART_BYTES + 1234)
    big = repo.writer("big.bin")
    for start in range(0, len(body), 1024 * 1024):
        big.write(body[start : start + 1024 * 1024])
    big.commit()
    chunks, size = repo.open_stream("big.bin")
    assert size == len(body) and b"".join(chunks) == body

    aborted = repo.writer("never.bin")
    aborted.write(os.urandom(PART_BYTES + 1))
    aborted.abort()
    assert repo.file_size("never.bin") is None
    assert s3_client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
