"""``TrailClient``'s logged-model methods (MLflow's names), on the embedded SQLite store and
against a live server, including a model's files written to its artifact location."""

from __future__ import annotations

import pytest

from mltrail.entities import LoggedModelOutput, LoggedModelStatus
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.tracking.client import TrailClient


@pytest.fixture(params=["sqlite", "server"])
def client(request, tmp_path) -> TrailClient:
    if request.param == "sqlite":
        return TrailClient("sqlite:///" + str(tmp_path / "mltrail.db"))
    from live_servers import ThreadServer, settings_for

    server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
    request.addfinalizer(server.stop)
    return TrailClient(server.url)


def test_logged_model_lifecycle(client: TrailClient, tmp_path) -> None:
    exp_id = client.create_experiment("models")
    run = client.create_run(exp_id)
    model = client.create_logged_model(
        exp_id, name="net", source_run_id=run.info.run_id, params={"lr": 0.1}, tags={"a": 1}
    )
    assert model.status == LoggedModelStatus.PENDING
    assert model.model_uri == f"models:/{model.model_id}"

    client.log_outputs(run.info.run_id, [LoggedModelOutput(model.model_id, 2)])
    client.set_logged_model_tags(model.model_id, {"stage": "dev"})
    client.delete_logged_model_tag(model.model_id, "a")
    client.log_model_params(model.model_id, {"epochs": 3})
    ready = client.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.READY

    got = client.get_logged_model(model.model_id)
    assert got.tags == {"stage": "dev"} and got.params == {"lr": "0.1", "epochs": "3"}
    assert client.get_run(run.info.run_id).outputs.model_outputs == [
        LoggedModelOutput(model.model_id, 2)
    ]
    found = client.search_logged_models(exp_id, "params.epochs = '3'", order_by=["name ASC"])
    assert [m.model_id for m in found] == [model.model_id]

    client.delete_logged_model(model.model_id)
    with pytest.raises(NotFound):
        client.get_logged_model(model.model_id)
    assert client.get_logged_model(model.model_id, allow_deleted=True).name == "net"


def test_model_files_go_to_its_artifact_location(client: TrailClient, tmp_path) -> None:
    from mltrail.artifacts import get_artifact_repository

    exp_id = client.create_experiment("files")
    model = client.create_logged_model(exp_id, name="files")
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    repo = get_artifact_repository(model.artifact_location, client.tracking_uri)
    repo.log_artifact(str(tmp_path / "MLmodel"))
    assert [f.path for f in repo.list_artifacts()] == ["MLmodel"]


def test_bad_input(client: TrailClient) -> None:
    exp_id = client.create_experiment("bad")
    with pytest.raises(InvalidParameter, match="name"):
        client.create_logged_model(exp_id, name="no/slashes")
    with pytest.raises(NotFound):
        client.finalize_logged_model("m-" + "0" * 32, "READY")
    model = client.create_logged_model(exp_id)
    with pytest.raises(InvalidParameter):
        client.finalize_logged_model(model.model_id, "SHIPPED")


def test_fluent_search_and_get_logged_models(tmp_path) -> None:
    import mltrail

    mltrail.set_tracking_uri("sqlite:///" + str(tmp_path / "fluent.db"))
    exp = mltrail.set_experiment("fluent-models")
    client = mltrail.MlflowClient()
    made = [client.create_logged_model(exp.experiment_id, name=f"m{i}") for i in range(3)]
    client.finalize_logged_model(made[1].model_id, "READY")

    frame = mltrail.search_logged_models(filter_string="status = 'LOGGED_MODEL_READY'")
    assert list(frame["model_id"]) == [made[1].model_id]
    assert list(frame["name"]) == ["m1"]
    every = mltrail.search_logged_models(output_format="list", max_results=2)
    assert len(every) == 2 and {m.name for m in every} <= {"m0", "m1", "m2"}
    assert len(mltrail.search_logged_models(output_format="list")) == 3
    assert mltrail.get_logged_model(made[2].model_id).name == "m2"
    with pytest.raises(InvalidParameter, match="output_format"):
        mltrail.search_logged_models(output_format="csv")
