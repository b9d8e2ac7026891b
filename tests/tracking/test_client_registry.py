"""``TrailClient``'s registry methods and the fluent ``register_model`` /
``search_registered_models`` / ``search_model_versions``, on the embedded SQLite store and
against a live server; model URIs (``models:/name/1``, ``@alias``, ``/latest``, ``/Stage``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mltrail
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.tracking.client import TrailClient


@pytest.fixture(params=["sqlite", "server"])
def uri(request, tmp_path) -> str:
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "mltrail.db")
    from live_servers import ThreadServer, settings_for

    server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
    request.addfinalizer(server.stop)
    return server.url


def _run_with_model_file(client: TrailClient, tmp_path) -> str:
    run = client.create_run("0")
    (tmp_path / "weights.txt").write_text("w1")
    client.log_artifact(run.info.run_id, str(tmp_path / "weights.txt"), "model")
    return run.info.run_id


def test_register_model_and_resolve_uris(uri, tmp_path) -> None:
    mltrail.set_tracking_uri(uri)
    client = TrailClient(uri)
    run_id = _run_with_model_file(client, tmp_path)
    v1 = mltrail.register_model(f"runs:/{run_id}/model", "clf", tags={"data": "v1"})
    v2 = mltrail.register_model(f"runs:/{run_id}/model", "clf")
    assert (v1.version, v2.version, v1.run_id, v1.tags) == (1, 2, run_id, {"data": "v1"})

    client.set_registered_model_alias("clf", "champion", 1)
    client.transition_model_version_stage("clf", 2, "Staging")
    assert client.get_model_version_by_uri("models:/clf@champion").version == 1
    assert client.get_model_version_by_uri("models:/clf/latest").version == 2
    assert client.get_model_version_by_uri("models:/clf/staging").version == 2
    assert client.get_model_version_by_uri("models:/clf/1").version == 1
    with pytest.raises(InvalidParameter):
        client.get_model_version_by_uri("models:/clf/Production")
    with pytest.raises(NotFound):
        client.get_model_version_by_uri("models:/clf@missing")

    # The version's files download through the artifact repository of its location.
    location = client.get_model_version_download_uri("clf", 1)
    from mltrail.artifacts import get_artifact_repository

    local = get_artifact_repository(location, uri).download_artifacts("", str(tmp_path / "d"))
    assert Path(local, "weights.txt").read_text() == "w1"

    copied = client.copy_model_version("models:/clf@champion", "clf-prod")
    assert (copied.name, copied.version, copied.run_id) == ("clf-prod", 1, run_id)
    # register_model of a registered version copies it too.
    assert mltrail.register_model("models:/clf/2", "clf-prod").version == 2

    assert [m.name for m in mltrail.search_registered_models()] == ["clf", "clf-prod"]
    versions = mltrail.search_model_versions(filter_string="name = 'clf'")
    assert sorted(v.version for v in versions) == [1, 2]
    assert len(mltrail.search_model_versions(max_results=1)) == 1


def test_client_tags_descriptions_and_deletes(uri, tmp_path) -> None:
    client = TrailClient(uri)
    run_id = _run_with_model_file(client, tmp_path)
    client.create_registered_model("m", tags={"team": 1}, description="d")
    assert client.get_registered_model("m").tags == {"team": "1"}
    client.create_model_version("m", f"runs:/{run_id}/model", run_id, tags={"a": "b"})
    client.set_model_version_tag("m", "1", "k", 3)
    client.set_model_version_tag("m", key="s", value="x", stage="None")
    assert client.get_model_version("m", 1).tags == {"a": "b", "k": "3", "s": "x"}
    client.delete_model_version_tag("m", 1, "a")
    client.update_model_version("m", 1, "v-desc")
    client.update_registered_model("m", "m-desc")
    client.set_registered_model_tag("m", "x", "y")
    client.delete_registered_model_tag("m", "team")
    model = client.get_registered_model("m")
    assert (model.description, model.tags) == ("m-desc", {"x": "y"})
    assert client.get_model_version("m", 1).description == "v-desc"
    assert client.rename_registered_model("m", "n").name == "n"
    client.delete_model_version("n", 1)
    client.delete_registered_model("n")
    with pytest.raises(NotFound):
        client.get_registered_model("n")
