"""End-to-end fixtures: a moto S3 server standing in for MinIO, the environment a Kubeflow
step sets to reach it, and fresh buckets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from live_servers import MotoServer

S3_KEYS = {"AWS_ACCESS_KEY_ID": "minio", "AWS_SECRET_ACCESS_KEY": "minio123"}


@pytest.fixture(scope="session")
def minio() -> Iterator[MotoServer]:
    """An S3-compatible server on the loopback (moto), standing in for Kubeflow's MinIO."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def s3_env(minio: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What a Kubeflow step sets to reach MinIO, also set in the test process (for checks
    through boto3 and mltrail's own client)."""
    env = {"MLFLOW_S3_ENDPOINT_URL": minio.url, **S3_KEYS}
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MLTRAIL_S3_ENDPOINT_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> str:
    """A fresh bucket, as the MinIO bucket a platform team creates for MLflow."""
    import boto3

    name = f"mlflow-{uuid.uuid4().hex[:10]}"
    boto3.client(
        "s3", endpoint_url=s3_env["MLFLOW_S3_ENDPOINT_URL"], region_name="us-east-1"
    ).create_bucket(Bucket=name)
    return name
