"""Fixtures: a live proxy over a local folder or over S3 (a moto server process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from live_servers import MotoServer, ThreadServer, settings_for


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the destination holding a secret that must never be read or touched."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("top secret")
    return folder


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """The real app on uvicorn with a local destination; the tracking URI points at it."""
    dest = tmp_path / "dest"
    dest.mkdir()
    server = ThreadServer(settings_for(tmp_path, str(dest))).start()
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    yield SimpleNamespace(url=server.url, dest=dest, server=server)
    server.stop()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server, with the environment a MinIO user would set."""
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MLTRAIL_S3_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    from mltrail.store.artifact.s3 import s3_client

    name = f"bucket-{uuid.uuid4().hex[:12]}"
    s3_client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_proxy(
    tmp_path: Path, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimpleNamespace]:
    destination = f"s3://{s3_bucket}/proxied"
    server = ThreadServer(settings_for(tmp_path, destination)).start()
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    yield SimpleNamespace(url=server.url, bucket=s3_bucket, prefix="proxied", server=server)
    server.stop()
