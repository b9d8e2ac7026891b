"""The server decides where artifacts live: hostile ``artifact_location`` values and dataset
sources are refused with 400 and nothing is stored; locations inside the allowlist pass."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, assert_error, make_settings, serve

from mltrail.exceptions import InvalidParameter
from mltrail.server.locations import (
    ArtifactLocationPolicy,
    check_reference_uri,
    check_source_uri,
    parse_location,
)

HOSTILE = [
    "/etc",
    "/etc/",
    "file:///etc/",
    "file:/etc/passwd",
    "file://localhost/etc",
    "file://evil.example/share",
    "s3://bucket/../../x",
    "s3://bucket/%2e%2e/x",
    "mlflow-artifacts:/../../etc",
    "mlflow-artifacts:/a/../../etc",
    "mlflow-artifacts:/%2e%2e/x",
    "mlflow-artifacts:/%252e%252e/x",
    "mlflow-artifacts:/%25252e%25252e/x",
    "mlflow-artifacts:/a/\uff0e\uff0e/b",  # fullwidth dots, '..' after NFKC
    "mlflow-artifacts:/a\\..\\b",
    "mlflow-artifacts:/a/%5c..%5cb",
    "mlflow-artifacts:/x#/../../etc",
    "mlflow-artifacts:/x?p=../../etc",
    "mlflow-artifacts:/x;/../../etc",
    "mlflow-artifacts:/x%23y",
    "mlflow-artifacts://evil.example/x",
    "mlflow-artifacts:/a//b",
    "mlflow-artifacts:/a/./b",
    "mlflow-artifacts:/a/\x00b",
    "mlflow-artifacts:/a/\nb",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/",
    "http://2852039166/latest/",
    "http://0xa9fea9fe/latest/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/x",
    "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/x",
    "http://localhost/x",
    "https://mltrail.example.com@10.0.0.1/x",
    "ftp://files.internal/x",
    "sftp://10.1.2.3/x",
    "dbfs:/",
    "hdfs://namenode/x",
    "s3://bucket@evil.example/x",
    "C:\\Windows\\System32",
    "c:/windows",
    "relative/folder",
    "mlflow-artifacts:/" + "a" * 3000,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("locations")
    with serve(make_settings(f"sqlite:///{folder / 'db.sqlite'}", folder)) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api, timeout=30) as client:
        yield client


def _experiment_names(api: httpx.Client) -> set[str]:
    body = api.post("/experiments/search", json={"max_results": 1000, "view_type": "ALL"}).json()
    return {e["name"] for e in body.get("experiments", [])}


@pytest.mark.parametrize("location", HOSTILE)
def test_hostile_artifact_location_is_refused_and_nothing_stored(
    api: httpx.Client, location: str
) -> None:
    before = _experiment_names(api)
    name = f"evil-{uuid.uuid4().hex[:8]}"
    answer = api.post("/experiments/create", json={"name": name, "artifact_location": location})
    body = assert_error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert "artifact location" in body["message"] or "artifact_location" in body["message"]
    assert _experiment_names(api) == before
    missing = api.get("/experiments/get-by-name", params={"experiment_name": name})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "location", ["mlflow-artifacts:/team-a", "mlflow-artifacts:/team-a/sub/", "mlflow-artifacts:/"]
)
def test_locations_inside_the_proxied_root_are_stored(api: httpx.Client, location: str) -> None:
    name = f"ok-{uuid.uuid4().hex[:8]}"
    answer = api.post("/experiments/create", json={"name": name, "artifact_location": location})
    assert answer.status_code == 200, answer.text
    exp = api.get("/experiments/get", params={"experiment_id": answer.json()["experiment_id"]})
    stored = exp.json()["experiment"]["artifact_location"]
    assert stored == location.rstrip("/") or stored == "mlflow-artifacts:/"


def test_the_refusal_says_where_artifacts_may_go(api: httpx.Client, tmp_path: Path) -> None:
    answer = api.post(
        "/experiments/create", json={"name": "x-outside", "artifact_location": str(tmp_path)}
    )
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "mlflow-artifacts:/", "leave it out")


def test_a_run_in_an_allowed_location_uploads_through_the_proxy(
    api: httpx.Client, server: LiveServer
) -> None:
    exp_id = api.post(
        "/experiments/create",
        json={"name": f"p-{uuid.uuid4().hex[:6]}", "artifact_location": "mlflow-artifacts:/tm"},
    ).json()["experiment_id"]
    run = api.post("/runs/create", json={"experiment_id": exp_id}).json()["run"]["info"]
    assert run["artifact_uri"] == f"mlflow-artifacts:/tm/{run['run_id']}/artifacts"
    rel = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxy = server.url + "/api/2.0/mlflow-artifacts/artifacts/"
    assert httpx.put(proxy + rel + "/a.txt", content=b"hello").status_code == 200
    listed = api.get("/artifacts/list", params={"run_id": run["run_id"]}).json()
    assert listed["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 5}]
    on_disk = Path(server.settings.artifacts_destination) / rel / "a.txt"
    assert on_disk.read_bytes() == b"hello"


# -- an operator's allowlist --------------------------------------------------------------------


def test_operator_allowlist_on_segment_boundaries() -> None:
    policy = ArtifactLocationPolicy(["s3://mlflow/teams", "mlflow-artifacts:/"])
    assert policy.check("s3://mlflow/teams") == "s3://mlflow/teams"
    assert policy.check("s3://MLflow/teams/a/") == "s3://mlflow/teams/a"  # host case-folded
    for refused in (
        "s3://mlflow/teams-evil/x",
        "s3://mlflow/other",
        "s3://mlflow-evil/teams/x",
        "s3://mlflow/teams/../other",
        "gs://mlflow/teams/a",
        "s3://user:pw@mlflow/teams/a",
    ):
        assert not policy.allows(refused), refused


def test_local_allowlist_follows_symlinks(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", shared / "link")
    policy = ArtifactLocationPolicy([str(shared)])
    assert policy.check(str(shared / "team")) == str(shared / "team")
    assert policy.check(f"file://{shared}/team") == str(shared / "team")
    assert not policy.allows(str(shared / "link" / "x"))
    assert not policy.allows(str(tmp_path / "shared-other"))


def test_operator_allowlist_on_a_live_server(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        allowed_artifact_locations=("s3://ml-artifacts/experiments",),
    )
    with serve(settings) as live, httpx.Client(base_url=live.api) as api:
        ok = api.post(
            "/experiments/create",
            json={"name": "s3", "artifact_location": "s3://ml-artifacts/experiments/s3"},
        )
        assert ok.status_code == 200, ok.text
        # The operator's list replaces the default: the proxied root is no longer offered.
        refused = api.post(
            "/experiments/create",
            json={"name": "proxied", "artifact_location": "mlflow-artifacts:/x"},
        )
        assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "s3://ml-artifacts/experiments")


def test_default_roots_include_the_configured_default_root() -> None:
    assert ArtifactLocationPolicy.default_roots("mlflow-artifacts:/", True) == [
        "mlflow-artifacts:/"
    ]
    assert ArtifactLocationPolicy.default_roots("s3://b/p", False) == ["s3://b/p"]


def test_parse_location_canonical_forms() -> None:
    assert parse_location("/data/a/").uri() == "/data/a"
    assert parse_location("file:///data/a").uri() == "/data/a"
    assert parse_location("S3://Bucket/Key").uri() == "s3://bucket/Key"
    assert parse_location("mlflow-artifacts:/").uri() == "mlflow-artifacts:/"
    with pytest.raises(InvalidParameter):
        parse_location(42)


def test_model_version_sources_for_the_registry() -> None:
    policy = ArtifactLocationPolicy(["mlflow-artifacts:/"])
    assert check_source_uri(policy, "runs:/abc/model") == "runs:/abc/model"
    assert check_source_uri(policy, "models:/m-123") == "models:/m-123"
    assert check_source_uri(policy, "mlflow-artifacts:/1/models/m/artifacts")
    for bad in ("runs:/abc/../../etc", "runs:/abc/%2e%2e/x", "/etc/passwd", "file:///etc"):
        with pytest.raises(InvalidParameter):
            check_source_uri(policy, bad)


# -- dataset sources -----------------------------------------------------------------------------


def _log_dataset(api: httpx.Client, run_id: str, source: str) -> httpx.Response:
    dataset = {"name": "d", "digest": uuid.uuid4().hex[:8], "source_type": "s", "source": source}
    return api.post("/runs/log-inputs", json={"run_id": run_id, "datasets": [{"dataset": dataset}]})


@pytest.fixture
def run_id(api: httpx.Client) -> str:
    exp = api.post("/experiments/create", json={"name": f"ds-{uuid.uuid4().hex[:8]}"}).json()
    return api.post("/runs/create", json={"experiment_id": exp["experiment_id"]}).json()["run"][
        "info"
    ]["run_id"]


@pytest.mark.parametrize(
    "source",
    [
        json.dumps({"uri": "http://169.254.169.254/latest/meta-data/"}),
        json.dumps({"url": "http://10.0.0.7:8080/internal.csv"}),
        json.dumps({"uri": "mlflow-artifacts:/../../etc/passwd"}),
        json.dumps({"uri": "https://user:pw@data.example.com/x.csv"}),
        json.dumps({"uri": "s3://bucket/%2e%2e/x"}),
        "http://localhost:5000/x",
    ],
)
def test_hostile_dataset_sources_are_refused(api: httpx.Client, run_id: str, source: str) -> None:
    answer = _log_dataset(api, run_id, source)
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "dataset source")
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert not run.get("inputs", {}).get("dataset_inputs")


@pytest.mark.parametrize(
    "source",
    [
        json.dumps({"uri": "s3://public-datasets/iris.csv"}),
        json.dumps({"uri": "/home/me/data/train.csv"}),  # the client's own disk: a description
        json.dumps({"url": "https://data.example.com/train.parquet"}),
        json.dumps({"path": "ylecun/mnist", "split": "train"}),  # a hub name
        json.dumps({"tags": {"mlflow.source.name": "train.py"}}),
    ],
)
def test_ordinary_dataset_sources_are_kept(api: httpx.Client, run_id: str, source: str) -> None:
    assert _log_dataset(api, run_id, source).status_code == 200
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["inputs"]["dataset_inputs"][0]["dataset"]["source"] == source


def test_reference_uris_refuse_internal_hosts_only() -> None:
    assert check_reference_uri("https://example.com/x") == "https://example.com/x"
    with pytest.raises(InvalidParameter, match="metadata"):
        check_reference_uri("http://169.254.169.254/")
    with pytest.raises(InvalidParameter, match="loopback"):
        check_reference_uri("http://[::1]/")
