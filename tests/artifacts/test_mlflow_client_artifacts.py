"""The real ``mlflow`` client (mlflow-skinny) logs artifacts to our server and downloads them
back through the proxy, including MLflow's multipart upload protocol; and mltrail reads what
mlflow wrote. The mlflow side runs in a subprocess: its global state stays out of our tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from mltrail.tracking.client import TrailClient

MLFLOW_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import mlflow

    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("artifact-compat")
    work = sys.argv[2]
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_artifact(os.path.join(work, "notes.txt"), artifact_path="docs")
        mlflow.log_artifacts(os.path.join(work, "tree"), artifact_path="tree")
        mlflow.log_artifact(os.path.join(work, "big.bin"))  # multipart: see the environment
    run_id = run.info.run_id
    got = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="docs/notes.txt", dst_path=os.path.join(work, "dl1")
    )
    assert open(got).read() == "hello from mlflow", got
    tree = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="tree", dst_path=os.path.join(work, "dl2")
    )
    assert open(os.path.join(tree, "a", "b.txt")).read() == "nested"
    names = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(run_id))
    assert names == ["big.bin", "docs", "tree"], names
    print("RUN", run_id)
    """
)


def run_mlflow_script(url: str, work: Path, big: bytes, chunk: int) -> str:
    (work / "tree" / "a").mkdir(parents=True)
    (work / "notes.txt").write_text("hello from mlflow")
    (work / "tree" / "a" / "b.txt").write_text("nested")
    (work / "big.bin").write_bytes(big)
    (work / "train.py").write_text(MLFLOW_SCRIPT)
    env = {
        **os.environ,
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
        "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(chunk),
        "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE": str(chunk),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    done = subprocess.run(
        [sys.executable, str(work / "train.py"), url, str(work)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split("RUN", 1)[1].strip()


def test_real_mlflow_client_through_the_proxy(proxy, tmp_path: Path) -> None:
    big = os.urandom(3 * 1024 * 1024 + 5)
    run_id = run_mlflow_script(proxy.url, tmp_path / "work", big, 1024 * 1024)

    # The file went up in four parts and was joined on disk, byte for byte.
    client = TrailClient(proxy.url)
    run = client.get_run(run_id)
    assert run.data.params == {"alpha": "0.5"}
    stored = proxy.dest / run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    assert hashlib.sha256((stored / "big.bin").read_bytes()).digest() == (
        hashlib.sha256(big).digest()
    )
    assert list((proxy.dest / ".upload-mpu").iterdir()) == []

    # mltrail's own client reads what mlflow wrote, through the same proxy.
    names = [f.path for f in client.list_artifacts(run_id)]
    assert names == ["big.bin", "docs", "tree"]
    back = client.download_artifacts(run_id, "tree", str(tmp_path / "mine"))
    assert (Path(back) / "a" / "b.txt").read_text() == "nested"


def test_real_mlflow_client_with_an_s3_destination(s3_proxy, tmp_path: Path) -> None:
    """The Kubeflow picture: mlflow logs to our server, whose artifacts live in S3; the big
    file goes to S3 in parts through presigned URLs the server hands out."""
    from mltrail.store.artifact.s3 import s3_client

    part = 5 * 1024 * 1024  # S3's smallest part size
    big = os.urandom(part + 1234)
    run_id = run_mlflow_script(s3_proxy.url, tmp_path / "work", big, part)
    run = TrailClient(s3_proxy.url).get_run(run_id)
    rel = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    obj = s3_client().get_object(Bucket=s3_proxy.bucket, Key=f"proxied/{rel}/big.bin")
    assert obj["Body"].read() == big
    assert obj["ETag"].strip('"').endswith("-2")  # completed from two parts
