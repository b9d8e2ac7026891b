"""Model version sources that cannot escape: each refused source gets INVALID_PARAMETER_VALUE
(a 400 through the server), and leaves no version row and no file behind. The cases are the
spellings of MLflow's advisories (CVE-2023-1177, -1176, -2356, -2780, -6909, -6977,
CVE-2024-1558, -1483, -3848, -3573) and their neighbours."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from mltrail.exceptions import InvalidParameter


def _tree(root: Path) -> set[str]:
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _escapes(run_id: str, run_artifacts: str, other_run: str, root: str) -> list[str]:
    return [
        # traversal, plain and encoded
        f"runs:/{run_id}/../../../etc",
        f"runs:/{run_id}/%2e%2e/%2e%2e/etc",
        f"runs:/{run_id}/%252e%252e/%252e%252e/etc",
        f"{run_artifacts}/../../../../etc",
        f"{run_artifacts}/%2E%2E/%2E%2E/x",
        f"{run_artifacts}\\..\\..\\..\\etc",
        "mlflow-artifacts:/0/../../../etc",
        # local paths and file: URIs outside every allowed place
        "/etc",
        "/etc/passwd",
        "file:///etc/",
        "file:///proc/self/root",
        "//proc/self/root",
        "/proc/self/environ",
        "file://evil.example/../../../../etc/",
        "file://localhost/etc/passwd",
        "C:\\Windows\\System32",
        "relative/model",
        # another run's artifacts
        f"runs:/{other_run}/model",
        # query and fragment tricks
        "http:///x#/../../",
        "http:///?/../../../../etc/",
        "http:///xxx%23/api/2.0/mlflow-artifacts/artifacts/../../../../etc/",
        "http://host#/../../etc/",
        f"{run_artifacts}?/../../x",
        f"{run_artifacts}#/../../x",
        f"{run_artifacts}%23/../../x",
        # other servers and hosts (SSRF)
        "http://169.254.169.254/latest/meta-data/",
        "https://evil.example/api/2.0/mlflow-artifacts/artifacts/../x",
        "mlflow-artifacts://evil.example:8080/0/model",
        "s3://someone-elses-bucket/model",
        "ftp://10.0.0.1/model",
        # NUL and control characters
        f"runs:/{run_id}/model\x00.txt",
        f"{run_artifacts}/model%00",
        f"{run_artifacts}/a\nb",
        # nonsense
        "models:/",
        "runs:/",
    ]


def test_every_escape_is_refused_and_leaves_nothing(stores):
    reg = stores.registry
    reg.create_registered_model("m")
    run = stores.new_run()
    other = stores.new_run()
    run_id = run.info.run_id
    before = _tree(stores.artifact_root)
    cases = _escapes(run_id, run.info.artifact_uri, other.info.run_id, str(stores.artifact_root))
    for source in cases:
        with pytest.raises(InvalidParameter, match="source"):
            reg.create_model_version("m", source, run_id)
    assert list(reg.search_model_versions("name = 'm'")) == []
    assert reg.get_registered_model("m").latest_versions == []
    assert _tree(stores.artifact_root) == before
    # ...and the next good version is still number 1: no number was used up.
    good = reg.create_model_version("m", f"runs:/{run_id}/model", run_id)
    assert good.version == 1


def test_another_runs_artifacts_by_location_are_refused(stores):
    reg = stores.registry
    reg.create_registered_model("m")
    mine, theirs = stores.new_run(), stores.new_run()
    # Inside the artifact root, but inside a run that is not the version's.
    with pytest.raises(InvalidParameter, match="inside the artifacts of run"):
        reg.create_model_version("m", f"{theirs.info.artifact_uri}/model", mine.info.run_id)
    with pytest.raises(InvalidParameter, match="inside the artifacts of run"):
        reg.create_model_version("m", f"{theirs.info.artifact_uri}/model")
    assert list(reg.search_model_versions("name = 'm'")) == []


def test_allowed_sources(stores):
    reg = stores.registry
    reg.create_registered_model("m")
    run = stores.new_run()
    run_id = run.info.run_id
    by_uri = reg.create_model_version("m", f"runs:/{run_id}/model", run_id)
    by_location = reg.create_model_version("m", f"{run.info.artifact_uri}/model", run_id)
    assert by_uri.version == 1 and by_location.version == 2
    assert reg.get_model_version_download_uri("m", 1) == reg.get_model_version_download_uri("m", 2)
    # Inside the artifact root and nobody's: allowed (a shared models folder).
    if stores.artifact_root.name == "dest":  # a server: its root is mlflow-artifacts:/
        inside_root = "mlflow-artifacts:/shared/model"
    else:
        inside_root = os.path.join(str(stores.artifact_root), "shared", "model")
    assert reg.create_model_version("m", inside_root).version == 3


def test_logged_model_sources(sql_stores):
    tracking, reg = sql_stores.tracking, sql_stores.registry
    run = sql_stores.new_run()
    model = tracking.create_logged_model("0", "clf", run.info.run_id)
    other = tracking.create_logged_model("0", "other", run.info.run_id)
    reg.create_registered_model("m")
    v = reg.create_model_version("m", f"models:/{model.model_id}", run.info.run_id,
                                 model_id=model.model_id)  # fmt: skip
    assert v.model_id == model.model_id
    assert reg.get_model_version_download_uri("m", 1).endswith(f"models/{model.model_id}/artifacts")
    with pytest.raises(InvalidParameter, match="names logged model"):
        reg.create_model_version("m", f"models:/{other.model_id}", model_id=model.model_id)
    with pytest.raises(InvalidParameter, match="logged model"):
        reg.create_model_version("m", f"{other.artifact_location}/x", model_id=model.model_id)
    with pytest.raises(InvalidParameter, match="names no logged model"):
        reg.create_model_version("m", "models:/m-" + "0" * 32)
    assert [x.version for x in reg.search_model_versions("name = 'm'")] == [1]


def test_the_server_answers_400_and_stores_nothing(tmp_path):
    """CVE-2023-1177's request through the server: model-versions/create with a local source,
    then get-artifact; the create is a 400 and the read has nothing to read."""
    from live_servers import ThreadServer, settings_for

    server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
    try:
        api = server.url + "/ajax-api/2.0/mlflow"
        requests.post(f"{api}/registered-models/create", json={"name": "m"}, timeout=10)
        for source in ("file:///etc/", "//proc/self/root", "http:///x%23/../../etc/"):
            answer = requests.post(
                f"{api}/model-versions/create", json={"name": "m", "source": source}, timeout=10
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        read = requests.get(
            f"{server.url}/model-versions/get-artifact",
            params={"name": "m", "version": "1", "path": "passwd"},
            timeout=10,
        )
        assert read.status_code == 404
        assert read.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert _tree(tmp_path / "dest") == set()
    finally:
        server.stop()
