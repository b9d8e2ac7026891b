"""MLflow 3's logged models with the real mlflow client against a live mltrail server:
``mlflow.sklearn.log_model`` / ``mlflow.pyfunc.log_model`` in a run, finding the model again,
loading it back by ``models:/<id>`` and by ``runs:/<run>/<name>``, the client's LoggedModel API,
and bad input."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from mlflow.entities import LoggedModelOutput, LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402

X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
Y = np.array([0, 0, 0, 1, 1, 1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(X, Y)


def log_sklearn(model: Any, name: str = "model") -> Any:
    # cloudpickle: the default format (skops) is an optional package; listing the
    # requirements skips a subprocess that would import the model to find them.
    return mlflow.sklearn.log_model(
        model, name=name, serialization_format="cloudpickle", pip_requirements=["scikit-learn"]
    )


def test_sklearn_log_model_and_load_it_back(mlflow_client: MlflowClient, mlflow_server) -> None:
    exp_id = mlflow.set_experiment(unique("sk")).experiment_id
    clf = fitted()
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("acc", 0.83)
        info = log_sklearn(clf)
    run_id = run.info.run_id
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.model_id.startswith("m-")

    model = mlflow.get_logged_model(info.model_id)
    assert model.name == "model"
    assert model.status == LoggedModelStatus.READY
    assert model.source_run_id == run_id
    assert model.experiment_id == exp_id
    assert model.artifact_location == f"mlflow-artifacts:/{exp_id}/models/{info.model_id}/artifacts"
    assert model.params["C"] == "1.0"
    assert [(m.key, m.value, m.model_id) for m in model.metrics] == [("acc", 0.83, info.model_id)]

    # The files went through the artifact proxy to the experiment's models/<id>/artifacts.
    folder = Path(mlflow_server.settings.artifacts_destination, exp_id, "models", info.model_id)
    assert (folder / "artifacts" / "MLmodel").is_file()

    # The run shows the model among its outputs.
    fetched = mlflow_client.get_run(run_id)
    assert [(o.model_id, o.step) for o in fetched.outputs.model_outputs] == [(info.model_id, 0)]

    by_id = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    assert list(by_id.predict(X)) == list(clf.predict(X))
    by_run = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    assert list(by_run.predict(X)) == list(clf.predict(X))


def test_search_logged_models(mlflow_client: MlflowClient) -> None:
    exp_id = mlflow.set_experiment(unique("search")).experiment_id
    ids = {}
    for name, acc in (("small", 0.6), ("large", 0.9)):
        with mlflow.start_run():
            mlflow.log_metric("acc", acc)
            mlflow.log_param("size", name)
            ids[name] = log_sklearn(fitted(), name=name).model_id

    found = mlflow.search_logged_models(
        experiment_ids=[exp_id], filter_string="metrics.acc > 0.8", output_format="list"
    )
    assert [m.model_id for m in found] == [ids["large"]]
    ordered = mlflow.search_logged_models(
        experiment_ids=[exp_id],
        order_by=[{"field_name": "metrics.acc", "ascending": True}],
        output_format="list",
    )
    assert [m.name for m in ordered] == ["small", "large"]
    newest_first = mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list")
    assert [m.name for m in newest_first] == ["large", "small"]
    frame = mlflow.search_logged_models(
        experiment_ids=[exp_id], filter_string="params.size = 'small'"
    )
    assert list(frame["model_id"]) == [ids["small"]]

    page = mlflow_client.search_logged_models([exp_id], max_results=1)
    assert len(page) == 1 and page.token
    rest = mlflow_client.search_logged_models([exp_id], max_results=1, page_token=page.token)
    assert [m.name for m in rest] == ["small"] and not rest.token
    assert mlflow.last_logged_model().model_id == ids["large"]


def test_pyfunc_log_model(mlflow_client: MlflowClient) -> None:
    mlflow.set_experiment(unique("pyfunc"))

    class AddOne(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: list[int], params: Any = None) -> list[int]:
            return [x + 1 for x in model_input]

    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="adder", python_model=AddOne(), pip_requirements=["cloudpickle"]
        )
    assert mlflow.get_logged_model(info.model_id).source_run_id == run.info.run_id
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert loaded.predict([1, 2]) == [2, 3]


def test_client_logged_model_api(mlflow_client: MlflowClient) -> None:
    exp_id = mlflow_client.create_experiment(unique("client"))
    run = mlflow_client.create_run(exp_id)
    model = mlflow_client.create_logged_model(
        exp_id,
        name="manual",
        source_run_id=run.info.run_id,
        params={"alpha": "0.5"},
        tags={"stage": "dev"},
        model_type="agent",
    )
    assert model.status == LoggedModelStatus.PENDING
    mlflow_client.set_logged_model_tags(model.model_id, {"stage": "prod", "owner": "ada"})
    mlflow_client.delete_logged_model_tag(model.model_id, "owner")
    mlflow_client.log_model_params(model.model_id, {f"p{i}": str(i) for i in range(120)})
    mlflow_client.log_outputs(run.info.run_id, [LoggedModelOutput(model.model_id, step=4)])
    done = mlflow_client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert done.status == LoggedModelStatus.READY

    got = mlflow_client.get_logged_model(model.model_id)
    assert got.tags == {"stage": "prod"}
    assert got.params["alpha"] == "0.5" and len(got.params) == 121
    assert got.model_type == "agent"
    outputs = mlflow_client.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 4)]
    assert [m.name for m in mlflow_client.search_logged_models([exp_id])] == ["manual"]

    mlflow_client.delete_logged_model(model.model_id)
    assert mlflow_client.search_logged_models([exp_id]) == []
    with pytest.raises(MlflowException) as info:
        mlflow_client.get_logged_model(model.model_id)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("name", ["a/b", "v1.2", "x:y"])
def test_bad_model_names_are_refused(mlflow_client: MlflowClient, name: str) -> None:
    exp_id = mlflow_client.create_experiment(unique("bad"))
    with pytest.raises(MlflowException) as info:
        mlflow_client.create_logged_model(exp_id, name=name)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "name" in info.value.message
    assert mlflow_client.search_logged_models([exp_id]) == []


def test_unknown_model_and_bad_filter(mlflow_client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as info:
        mlflow.get_logged_model("m-" + "0" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as info:
        mlflow.sklearn.load_model("models:/m-" + "1" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    exp_id = mlflow_client.create_experiment(unique("filter"))
    with pytest.raises(MlflowException) as info:
        mlflow_client.search_logged_models([exp_id], filter_string="metrics.acc > 'high'")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
