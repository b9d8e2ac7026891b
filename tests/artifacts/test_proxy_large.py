"""A 300 MB file through a proxy running in its own process: both directions stream, so the
server's peak memory stays far below the file's size."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from live_servers import ProcessServer, settings_for

from mltrail.store.artifact.http import HttpArtifactRepository

SIZE_MB = 300


def write_big_file(path: Path, size_mb: int) -> str:
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(size_mb):
            chunk = block[i % 7 :] + block[: i % 7]  # not one block repeated verbatim
            f.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.slow
def test_big_upload_and_download_stream_with_flat_server_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    expected = write_big_file(big, SIZE_MB)
    dest = tmp_path / "dest"
    server = ProcessServer(settings_for(tmp_path, str(dest)))
    try:
        before = server.memory_kb()["VmRSS"]
        repo = HttpArtifactRepository(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/exp/run")
        start = time.perf_counter()
        repo.log_artifact(str(big), "data")
        upload_s = time.perf_counter() - start
        after_upload = server.memory_kb()["VmHWM"]

        assert sha256(dest / "exp" / "run" / "data" / "big.bin") == expected
        assert not [p for p in (dest / "exp" / "run" / "data").iterdir() if p.name != "big.bin"]

        start = time.perf_counter()
        local = repo.download_artifacts("data/big.bin", str(tmp_path / "back"))
        download_s = time.perf_counter() - start
        peak = server.memory_kb()["VmHWM"]
        assert sha256(Path(local)) == expected
    finally:
        server.stop()
    growth_mb = (peak - before) / 1024
    print(
        f"\nproxy {SIZE_MB} MB: upload {SIZE_MB / upload_s:.0f} MB/s, "
        f"download {SIZE_MB / download_s:.0f} MB/s; server RSS before {before / 1024:.0f} MB, "
        f"peak after upload {after_upload / 1024:.0f} MB, peak overall {peak / 1024:.0f} MB"
    )
    assert growth_mb < 64, f"server memory grew by {growth_mb:.0f} MB for a {SIZE_MB} MB file"
