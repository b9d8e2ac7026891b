"""The proxy with an ``s3://`` destination (a moto server process behind it)."""

from __future__ import annotations

import os
from pathlib import Path

import requests
from test_proxy_paths import BASE, raw

from mltrail.artifacts import get_artifact_repository
from mltrail.store.artifact.s3 import s3_client
from mltrail.store.artifact.s3_multipart import PART_BYTES


def keys(bucket: str) -> list[str]:
    answer = s3_client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def test_round_trip_into_s3(s3_proxy, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    big = os.urandom(PART_BYTES + 4321)  # streamed into S3 as a two-part upload
    (src / "sub" / "big.bin").write_bytes(big)
    repo = get_artifact_repository("mlflow-artifacts:/2/r/artifacts")
    repo.log_artifacts(str(src))
    assert keys(s3_proxy.bucket) == [
        "proxied/2/r/artifacts/a.txt",
        "proxied/2/r/artifacts/sub/big.bin",
    ]
    assert [(f.path, f.is_dir) for f in repo.list_artifacts()] == [("a.txt", False), ("sub", True)]
    assert repo.list_artifacts("sub")[0].file_size == len(big)
    out = Path(repo.download_artifacts("", str(tmp_path / "out")))
    assert (out / "sub" / "big.bin").read_bytes() == big
    answer = requests.get(f"{s3_proxy.url}{BASE}/2/r/artifacts/sub", timeout=10)
    assert answer.status_code == 400  # a folder
    repo.delete_artifacts("sub")
    assert keys(s3_proxy.bucket) == ["proxied/2/r/artifacts/a.txt"]


def test_traversal_never_reaches_the_bucket(s3_proxy) -> None:
    s3_client().put_object(Bucket=s3_proxy.bucket, Key="outside.txt", Body=b"secret")
    for path in ("../outside.txt", "%2e%2e/outside.txt", "%252e%252e/outside.txt", "..%5cx"):
        for method, body in (("GET", None), ("PUT", b"pwned"), ("DELETE", None)):
            status, _ = raw(s3_proxy.url, method, f"{BASE}/{path}", body)
            assert status == 400
    assert keys(s3_proxy.bucket) == ["outside.txt"]
    obj = s3_client().get_object(Bucket=s3_proxy.bucket, Key="outside.txt")
    assert obj["Body"].read() == b"secret"


def test_presigned_multipart_upload_and_download(s3_proxy) -> None:
    base = f"{s3_proxy.url}/api/2.0/mlflow-artifacts"
    blob = os.urandom(5 * 1024 * 1024 + 99)
    cut = 5 * 1024 * 1024  # S3's smallest part but the last
    created = requests.post(
        f"{base}/mpu/create/m", json={"path": "C:\\Users\\me\\w.bin", "num_parts": 2}, timeout=10
    ).json()
    parts = []
    for cred, piece in zip(created["credentials"], (blob[:cut], blob[cut:]), strict=True):
        answer = requests.put(cred["url"], data=piece, timeout=30)
        assert answer.status_code == 200, answer.text
        parts.append({"part_number": cred["part_number"], "etag": answer.headers["ETag"]})
    body = {"path": "w.bin", "upload_id": created["upload_id"], "parts": parts}
    assert requests.post(f"{base}/mpu/complete/m", json=body, timeout=10).status_code == 200
    assert "proxied/m/w.bin" in keys(s3_proxy.bucket)

    signed = requests.get(f"{base}/presigned/m/w.bin", timeout=10).json()
    assert signed["file_size"] == len(blob)
    assert requests.get(signed["url"], timeout=30).content == blob

    again = requests.post(f"{base}/mpu/create/m", json={"path": "x.bin"}, timeout=10).json()
    body = {"path": "x.bin", "upload_id": again["upload_id"]}
    assert requests.post(f"{base}/mpu/abort/m", json=body, timeout=10).status_code == 200
    uploads = s3_client().list_multipart_uploads(Bucket=s3_proxy.bucket).get("Uploads", [])
    assert uploads == []
