"""``mltrail.artifacts`` (MLflow's ``mlflow.artifacts``): load_text, load_dict, load_image,
list_artifacts and download_artifacts by ``runs:/``, ``models:/<model_id>`` and storage URIs,
on the embedded store and through a live server's artifact proxy."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

import mltrail
from mltrail import artifacts
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.tracking.client import TrailClient


@pytest.fixture(params=["sqlite", "server"])
def tracking(request, tmp_path) -> str:
    if request.param == "sqlite":
        uri = "sqlite:///" + str(tmp_path / "mltrail.db")
    else:
        from live_servers import ThreadServer, settings_for

        server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
        request.addfinalizer(server.stop)
        uri = server.url
    mltrail.set_tracking_uri(uri)
    return uri


def _run_with_files() -> str:
    with mltrail.start_run() as run:
        mltrail.log_text("hello\nworld", "notes/readme.txt")
        mltrail.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
        mltrail.log_dict({"name": "net", "depth": 3}, "config.yaml")
    return run.info.run_id


def test_signatures_match_mlflow() -> None:
    import mlflow.artifacts

    for name in ("download_artifacts", "list_artifacts", "load_text", "load_dict", "load_image"):
        ours = list(inspect.signature(getattr(artifacts, name)).parameters)
        theirs = list(inspect.signature(getattr(mlflow.artifacts, name)).parameters)
        assert ours == theirs, name


def test_load_text_and_dict_by_run_uri(tracking: str) -> None:
    run_id = _run_with_files()
    assert artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == "hello\nworld"
    assert artifacts.load_dict(f"runs:/{run_id}/config.json") == {"lr": 0.1, "layers": [1, 2]}
    assert artifacts.load_dict(f"runs:/{run_id}/config.yaml") == {"name": "net", "depth": 3}


def test_list_artifacts_by_run_id_and_by_uri(tracking: str) -> None:
    run_id = _run_with_files()
    top = artifacts.list_artifacts(run_id=run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("config.json", False),
        ("config.yaml", False),
        ("notes", True),
    ]
    # With run_id or a runs:/ URI the paths keep the folder (as MLflow's, checked by the
    # differential suite); under a storage URI they are relative to it.
    assert [f.path for f in artifacts.list_artifacts(run_id=run_id, artifact_path="notes")] == [
        "notes/readme.txt"
    ]
    assert [f.path for f in artifacts.list_artifacts(artifact_uri=f"runs:/{run_id}/notes")] == [
        "notes/readme.txt"
    ]


def test_download_a_file_a_folder_and_the_whole_run(tracking: str, tmp_path: Path) -> None:
    run_id = _run_with_files()
    one = artifacts.download_artifacts(f"runs:/{run_id}/config.json", dst_path=str(tmp_path / "a"))
    assert one == str(tmp_path / "a" / "config.json")
    folder = artifacts.download_artifacts(run_id=run_id, artifact_path="notes")
    assert Path(folder, "readme.txt").read_text() == "hello\nworld"
    whole = artifacts.download_artifacts(f"runs:/{run_id}", dst_path=str(tmp_path / "all"))
    assert whole == str(tmp_path / "all")
    assert sorted(os.listdir(whole)) == ["config.json", "config.yaml", "notes"]


def test_storage_uri_of_a_file_and_of_a_folder(tracking: str, tmp_path: Path) -> None:
    run_id = _run_with_files()
    root = TrailClient().artifact_uri(run_id)
    assert artifacts.load_text(f"{root}/notes/readme.txt") == "hello\nworld"
    assert [f.path for f in artifacts.list_artifacts(artifact_uri=f"{root}/notes")] == [
        "readme.txt"
    ]
    got = artifacts.download_artifacts(f"{root}/notes", dst_path=str(tmp_path / "n"))
    assert Path(got, "readme.txt").read_text() == "hello\nworld"


def test_models_uri_names_a_logged_model(tracking: str) -> None:
    client = TrailClient()
    exp_id = client.create_experiment("m")
    model = client.create_logged_model(exp_id, name="net")
    repo = artifacts.get_artifact_repository(model.artifact_location)
    repo_dir = Path(artifacts.download_artifacts(run_id=_run_with_files()))  # any local folder
    (repo_dir / "MLmodel").write_text("flavors: {}\n")
    repo.log_artifact(str(repo_dir / "MLmodel"))
    (repo_dir / "meta.yaml").write_text("name: net\n")
    repo.log_artifact(str(repo_dir / "meta.yaml"))
    assert artifacts.load_text(f"models:/{model.model_id}/MLmodel") == "flavors: {}\n"
    assert artifacts.load_dict(f"models:/{model.model_id}/meta.yaml") == {"name": "net"}
    listed = artifacts.list_artifacts(artifact_uri=f"models:/{model.model_id}")
    assert [f.path for f in listed] == ["MLmodel", "meta.yaml"]
    whole = artifacts.download_artifacts(f"models:/{model.model_id}")
    assert sorted(os.listdir(whole)) == ["MLmodel", "meta.yaml"]
    with pytest.raises(NotFound, match="names no logged model"):
        artifacts.download_artifacts("models:/m-0123456789abcdef0123456789abcdef")


def test_load_image(tracking: str) -> None:
    from PIL import Image

    image = Image.new("RGB", (4, 3), (255, 0, 0))
    with mltrail.start_run() as run:
        mltrail.log_image(image, "red.png")
    loaded = artifacts.load_image(f"runs:/{run.info.run_id}/red.png")
    assert loaded.size == (4, 3)
    assert loaded.getpixel((0, 0)) == (255, 0, 0)


def test_bad_arguments_are_one_clear_error(tracking: str) -> None:
    run_id = _run_with_files()
    with pytest.raises(InvalidParameter, match="either artifact_uri, or run_id"):
        artifacts.download_artifacts()
    with pytest.raises(InvalidParameter, match="either artifact_uri, or run_id"):
        artifacts.list_artifacts(artifact_uri=f"runs:/{run_id}", run_id=run_id)
    with pytest.raises(InvalidParameter, match="artifact_path goes with run_id"):
        artifacts.download_artifacts(f"runs:/{run_id}", artifact_path="x")
    with pytest.raises(InvalidParameter, match="a folder"):
        artifacts.load_text(f"runs:/{run_id}/notes")
    with pytest.raises(InvalidParameter, match="not a dict"):
        mltrail.log_dict([1, 2], "list.json", run_id=run_id)
        artifacts.load_dict(f"runs:/{run_id}/list.json")
    with pytest.raises(InvalidParameter, match="not valid JSON"):
        artifacts.load_dict(f"runs:/{run_id}/notes/readme.txt")
    with pytest.raises(MltrailException):
        artifacts.load_text(f"runs:/{run_id}/missing.txt")
    with pytest.raises(InvalidParameter, match="Malformed URI"):
        artifacts.load_text("runs:")
