"""Top-level names MLflow tracking code calls (issue 8, part 10), each behaving as MLflow's:
restore_run/restore_experiment, delete_experiment_tag, log_table, MLflow 3's logged-model
functions, and ``mltrail.environment_variables``."""

from __future__ import annotations

import inspect
import json

import pytest

import mltrail
from mltrail.entities import LoggedModelOutput, LoggedModelStatus
from mltrail.exceptions import InvalidParameter


@pytest.mark.parametrize(
    "name",
    [
        "restore_run", "restore_experiment", "delete_experiment_tag", "log_table",
        "last_logged_model", "initialize_logged_model", "finalize_logged_model",
        "set_logged_model_tags", "delete_logged_model_tag", "log_model_params", "log_outputs",
    ],
)  # fmt: skip
def test_signature_matches_mlflow(name: str) -> None:
    import mlflow

    ours = list(inspect.signature(getattr(mltrail, name)).parameters)
    assert ours == list(inspect.signature(getattr(mlflow, name)).parameters)


def test_restore_run_and_experiment() -> None:
    exp = mltrail.set_experiment("to-restore")
    with mltrail.start_run() as run:
        pass
    mltrail.delete_run(run.info.run_id)
    mltrail.restore_run(run.info.run_id)
    assert mltrail.get_run(run.info.run_id).info.lifecycle_stage == "active"
    mltrail.delete_experiment(exp.experiment_id)
    assert mltrail.get_experiment(exp.experiment_id).lifecycle_stage == "deleted"
    mltrail.restore_experiment(exp.experiment_id)
    assert mltrail.get_experiment(exp.experiment_id).lifecycle_stage == "active"


def test_delete_experiment_tag() -> None:
    exp = mltrail.set_experiment("tags")
    mltrail.set_experiment_tag("release", "1.0")
    mltrail.delete_experiment_tag("release")
    assert "release" not in mltrail.get_experiment(exp.experiment_id).tags


def test_log_table_appends_and_is_indexed() -> None:
    from mltrail import artifacts

    with mltrail.start_run() as run:
        mltrail.log_table({"q": ["a", "b"], "score": [0.5, 1.0]}, "eval/table.json")
        mltrail.log_table({"q": ["c"], "score": [0.25]}, "eval/table.json")
    table = artifacts.load_dict(f"runs:/{run.info.run_id}/eval/table.json")
    assert table["columns"] == ["q", "score"]
    assert table["data"] == [["a", 0.5], ["b", 1.0], ["c", 0.25]]
    tag = mltrail.get_run(run.info.run_id).data.tags["mlflow.loggedArtifacts"]
    assert json.loads(tag) == [{"path": "eval/table.json", "type": "table"}]
    with pytest.raises(InvalidParameter, match=".json"):
        mltrail.log_table({"a": [1]}, "table.csv", run_id=run.info.run_id)


def test_logged_model_functions() -> None:
    with mltrail.start_run() as run:
        model = mltrail.initialize_logged_model(name="net", tags={"a": "1"}, params={"lr": "0.1"})
        assert model.source_run_id == run.info.run_id
        assert mltrail.last_logged_model().model_id == model.model_id
        mltrail.set_logged_model_tags(model.model_id, {"stage": "dev"})
        mltrail.delete_logged_model_tag(model.model_id, "a")
        mltrail.log_model_params({"epochs": "3"})  # the last logged model
        mltrail.log_outputs([LoggedModelOutput(model.model_id, 0)])
        ready = mltrail.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.READY
    got = mltrail.get_logged_model(model.model_id)
    assert got.tags == {"stage": "dev"}
    assert got.params == {"lr": "0.1", "epochs": "3"}
    outputs = mltrail.get_run(run.info.run_id).outputs
    assert [m.model_id for m in outputs.model_outputs] == [model.model_id]


def test_environment_variables(monkeypatch) -> None:
    env = mltrail.environment_variables
    assert env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 5
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    assert env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 2
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "3")  # mltrail's twin wins
    assert env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 3
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "maybe")
    with pytest.raises(InvalidParameter, match="true or false"):
        env.MLFLOW_TRACKING_INSECURE_TLS.get()
    env.MLFLOW_EXPERIMENT_NAME.set("x")
    assert env.MLFLOW_EXPERIMENT_NAME.is_set() and env.MLFLOW_EXPERIMENT_NAME.get() == "x"
    env.MLFLOW_EXPERIMENT_NAME.unset()
    assert not env.MLFLOW_EXPERIMENT_NAME.is_set()
