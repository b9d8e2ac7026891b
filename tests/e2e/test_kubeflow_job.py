"""The seed's Kubeflow step end to end: a YOLO-style training job, configured only by the
environment a pipeline step sets (tracking URI, MinIO endpoint and keys, experiment name),
logs through the real ``mlflow`` client to ``mltrail server``, whose artifacts live in an
S3-compatible store (a moto server process standing in for MinIO).

Two deployments, as platform teams run them:

* direct: ``--default-artifact-root s3://bucket/ --no-serve-artifacts``; the job writes to
  the bucket itself with its own keys, the server only records where;
* proxied: ``--artifacts-destination s3://bucket/prefix`` with artifact serving on; the job
  uploads through the server, which alone talks to the bucket.

Then everything is read back through mltrail's own client, the server's REST API and boto3.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from e2e_helpers import CliServer, clean_env, cli_server
from yolo_job import yolo_args

from mltrail.tracking.client import TrailClient

JOB = Path(__file__).with_name("yolo_job.py")
EPOCHS = 3
EXPERIMENT = "yolov8withmlflow"

pytestmark = pytest.mark.timeout(120)


def run_training_job(tmp_path: Path, tracking_uri: str, s3_env: dict[str, str]) -> tuple:
    """The pipeline step: only the seed's environment variables, nothing in code."""
    save_dir = tmp_path / "runs" / "detect" / "train"
    home = tmp_path / "home"  # no ~/.aws or ~/.mlflow from the machine
    home.mkdir()
    env = clean_env(
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_S3_ENDPOINT_URL=s3_env["MLFLOW_S3_ENDPOINT_URL"],
        AWS_ACCESS_KEY_ID=s3_env["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=s3_env["AWS_SECRET_ACCESS_KEY"],
        MLFLOW_EXPERIMENT_NAME=EXPERIMENT,
        HOME=str(home),
    )
    done = subprocess.run(
        [sys.executable, str(JOB), str(save_dir), str(EPOCHS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_ids = [line[7:] for line in done.stdout.splitlines() if line.startswith("RUN_ID=")]
    assert len(run_ids) == 1, done.stdout
    return run_ids[0], save_dir


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def expected_histories(save_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Per metric key, (step, value) for each epoch: from the job's results.csv, plus the
    learning rates the trainer schedules."""
    with open(save_dir / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        epoch = int(row.pop("epoch"))
        for key, value in row.items():
            clean = key.replace("(", "").replace(")", "")
            out.setdefault(clean, []).append((epoch, float(value)))
        for i in range(3):
            out.setdefault(f"lr/pg{i}", []).append((epoch, 0.01 * math.exp(-0.5 * epoch)))
    return out


def check_run_landed(server: CliServer, run_id: str, save_dir: Path, tmp_path: Path) -> None:
    """Params, metric histories and artifacts, through mltrail's client and the REST API."""
    client = TrailClient(server.url)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    run = client.get_run(run_id)
    assert run.info.experiment_id == experiment.experiment_id
    assert run.info.status == "FINISHED" and run.info.end_time
    assert run.info.run_name == "train"
    assert run.data.tags["mlflow.runName"] == "train"

    # Params: every entry of the YOLO config (over 100: the client sent several batches).
    args = yolo_args(EPOCHS, save_dir)
    assert len(args) > 100
    assert run.data.params == {k: str(v) for k, v in args.items()}

    # Metrics: one point per epoch and key, with the epoch as step.
    expected = expected_histories(save_dir)
    assert "metrics/mAP50-95B" in expected and "train/box_loss" in expected
    assert set(run.data.metrics) == set(expected)
    for key, points in expected.items():
        history = sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
        assert [step for step, _ in history] == [step for step, _ in points], key
        assert [value for _, value in history] == pytest.approx([value for _, value in points])
    answer = requests.get(
        f"{server.api}/metrics/get-history",
        params={"run_id": run_id, "metric_key": "metrics/mAP50B"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert [m["step"] for m in answer.json()["metrics"]] == list(range(EPOCHS))

    # Artifacts: listed by the client and by the server, downloadable, byte for byte.
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {
        ("args.yaml", False),
        ("confusion_matrix.png", False),
        ("results.csv", False),
        ("results.png", False),
        ("val", True),
        ("weights", True),
    }
    weights = client.list_artifacts(run_id, "weights")
    assert [(f.path, f.file_size) for f in weights] == [
        ("weights/best.pt", (save_dir / "weights" / "best.pt").stat().st_size),
        ("weights/last.pt", (save_dir / "weights" / "last.pt").stat().st_size),
    ]
    listed = requests.get(
        f"{server.api}/artifacts/list", params={"run_id": run_id, "path": "weights"}, timeout=10
    )
    assert listed.status_code == 200, listed.text
    assert [(f["path"], f["is_dir"]) for f in listed.json()["files"]] == [
        ("weights/best.pt", False),
        ("weights/last.pt", False),
    ]
    out = Path(client.download_artifacts(run_id, "", str(tmp_path / "downloaded")))
    assert files_under(out) == files_under(save_dir)


def bucket_objects(s3_env: dict[str, str], bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=s3_env["MLFLOW_S3_ENDPOINT_URL"], region_name="us-east-1")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            found[obj["Key"][len(prefix) :]] = body
    return found


def test_job_writes_minio_directly(tmp_path: Path, s3_env: dict[str, str], bucket: str) -> None:
    """The MinIO set-up of the seed: the server hands out s3:// locations and never serves
    artifacts; the job's mlflow client writes to the bucket with its own keys."""
    args = [
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--default-artifact-root",
        f"s3://{bucket}/",
        "--no-serve-artifacts",
    ]
    # The server's pod has the MinIO settings too (it lists artifacts for the API and UI).
    with cli_server(args, tmp_path, clean_env(**s3_env)) as server:
        assert f"artifacts:        s3://{bucket}/ (clients write there directly)" in (
            server.output()
        )
        run_id, save_dir = run_training_job(tmp_path, server.url, s3_env)
        run = TrailClient(server.url).get_run(run_id)
        prefix = f"{run.info.experiment_id}/{run_id}/artifacts/"
        assert run.info.artifact_uri == f"s3://{bucket}/{prefix}".rstrip("/")
        check_run_landed(server, run_id, save_dir, tmp_path)
        # The bytes are in the bucket where the run says they are.
        assert bucket_objects(s3_env, bucket, prefix) == files_under(save_dir)
        # Artifact serving is off: the proxy routes do not hand out files.
        proxied = requests.get(
            f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{prefix}weights/best.pt",
            timeout=10,
        )
        assert proxied.status_code != 200


def test_job_uploads_through_the_server(
    tmp_path: Path, s3_env: dict[str, str], bucket: str
) -> None:
    """Artifacts proxied by the server into s3://bucket/prefix: the job's client uploads over
    HTTP (mlflow-artifacts:/), and only the server holds the bucket's keys."""
    args = [
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--artifacts-destination",
        f"s3://{bucket}/mlartifacts",
    ]
    with cli_server(args, tmp_path, clean_env(**s3_env)) as server:
        assert f"s3://{bucket}/mlartifacts (uploaded through this server)" in server.output()
        # The job still has MinIO's variables set (as the seed's step does); the server's
        # mlflow-artifacts:/ location makes the client go through the server anyway.
        run_id, save_dir = run_training_job(tmp_path, server.url, s3_env)
        run = TrailClient(server.url).get_run(run_id)
        rel = f"{run.info.experiment_id}/{run_id}/artifacts/"
        assert run.info.artifact_uri == f"mlflow-artifacts:/{rel}".rstrip("/")
        check_run_landed(server, run_id, save_dir, tmp_path)
        assert bucket_objects(s3_env, bucket, f"mlartifacts/{rel}") == files_under(save_dir)
        best = requests.get(
            f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{rel}weights/best.pt", timeout=10
        )
        assert best.status_code == 200
        assert best.content == (save_dir / "weights" / "best.pt").read_bytes()
