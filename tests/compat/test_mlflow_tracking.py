"""The real mlflow client (fluent API and MlflowClient) against a live mltrail server."""

from __future__ import annotations

import math
import time
import uuid

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- experiments ---------------------------------------------------------------------------


def test_set_experiment_creates_it_once(mlflow_client: MlflowClient) -> None:
    name = unique("set")
    first = mlflow.set_experiment(name)
    again = mlflow.set_experiment(name)
    assert first.experiment_id == again.experiment_id
    assert first.name == name
    assert first.artifact_location == f"mlflow-artifacts:/{first.experiment_id}"
    assert mlflow_client.get_experiment_by_name(name).experiment_id == first.experiment_id


def test_experiment_lifecycle(mlflow_client: MlflowClient) -> None:
    name = unique("life")
    exp_id = mlflow_client.create_experiment(name, tags={"team": "nlp"})
    exp = mlflow_client.get_experiment(exp_id)
    assert exp.tags == {"team": "nlp"}
    assert exp.lifecycle_stage == "active"

    mlflow_client.set_experiment_tag(exp_id, "stage", "dev")
    mlflow_client.delete_experiment_tag(exp_id, "team")
    assert mlflow_client.get_experiment(exp_id).tags == {"stage": "dev"}

    mlflow_client.rename_experiment(exp_id, name + "-renamed")
    assert mlflow_client.get_experiment(exp_id).name == name + "-renamed"

    mlflow_client.delete_experiment(exp_id)
    assert mlflow_client.get_experiment(exp_id).lifecycle_stage == "deleted"
    mlflow_client.restore_experiment(exp_id)
    assert mlflow_client.get_experiment(exp_id).lifecycle_stage == "active"


def test_unknown_experiment_by_name_is_none(mlflow_client: MlflowClient) -> None:
    assert mlflow_client.get_experiment_by_name(unique("missing")) is None


def test_duplicate_experiment_raises_already_exists(mlflow_client: MlflowClient) -> None:
    name = unique("dup")
    mlflow_client.create_experiment(name)
    with pytest.raises(MlflowException) as info:
        mlflow_client.create_experiment(name)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_search_experiments(mlflow_client: MlflowClient) -> None:
    prefix = unique("sx")
    ids = [mlflow_client.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}) for i in range(3)]
    found = mlflow_client.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert {e.experiment_id for e in found} == set(ids)
    found = mlflow_client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.i = '1'"
    )
    assert [e.experiment_id for e in found] == [ids[1]]
    page = mlflow_client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'", max_results=2, order_by=["name ASC"]
    )
    assert [e.experiment_id for e in page] == ids[:2] and page.token
    rest = mlflow_client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'",
        max_results=2,
        order_by=["name ASC"],
        page_token=page.token,
    )
    assert [e.experiment_id for e in rest] == ids[2:] and not rest.token
    mlflow_client.delete_experiment(ids[0])
    deleted = mlflow_client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE '{prefix}-%'"
    )
    assert [e.experiment_id for e in deleted] == [ids[0]]


def test_start_run_in_missing_experiment_fails_clearly(mlflow_tracking: str) -> None:
    with pytest.raises(MlflowException) as info:
        mlflow.start_run(experiment_id="987654")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# -- runs ----------------------------------------------------------------------------------


def test_fluent_run_logs_everything(mlflow_client: MlflowClient) -> None:
    mlflow.set_experiment(unique("fluent"))
    with mlflow.start_run(run_name="train") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"epochs": 3, "optimizer": "adam"})
        mlflow.log_metric("loss", 0.9, step=0)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metrics({"acc": 0.8, "f1": 0.7}, step=1)
        mlflow.set_tag("owner", "ada")
        mlflow.set_tags({"a": "1", "b": "2"})
        run_id = run.info.run_id
    got = mlflow_client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.info.run_name == "train"
    assert got.data.params == {"lr": "0.01", "epochs": "3", "optimizer": "adam"}
    assert got.data.metrics == {"loss": 0.5, "acc": 0.8, "f1": 0.7}
    assert got.data.tags["owner"] == "ada" and got.data.tags["b"] == "2"
    assert got.data.tags["mlflow.runName"] == "train"
    assert got.data.tags["mlflow.source.type"] == "LOCAL"
    assert got.info.artifact_uri.startswith("mlflow-artifacts:/")


def test_failed_run_ends_failed(mlflow_client: MlflowClient) -> None:
    mlflow.set_experiment(unique("fail"))
    with pytest.raises(RuntimeError), mlflow.start_run() as run:
        raise RuntimeError("boom")
    assert mlflow_client.get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_with_status(mlflow_client: MlflowClient) -> None:
    run = mlflow.start_run()
    mlflow.end_run(status="KILLED")
    assert mlflow_client.get_run(run.info.run_id).info.status == "KILLED"


def test_nested_runs(mlflow_client: MlflowClient) -> None:
    exp = mlflow.set_experiment(unique("nested"))
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_metric("x", 1)
    child_run = mlflow_client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    children = mlflow_client.search_runs(
        [exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_resume_run_by_id(mlflow_client: MlflowClient) -> None:
    mlflow.set_experiment(unique("resume"))
    with mlflow.start_run() as run:
        mlflow.log_param("a", 1)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_param("b", 2)
    got = mlflow_client.get_run(run.info.run_id)
    assert got.data.params == {"a": "1", "b": "2"}
    assert got.info.status == "FINISHED"


def test_client_log_batch_splits_large_batches(mlflow_client: MlflowClient) -> None:
    exp_id = mlflow_client.create_experiment(unique("batch"))
    run = mlflow_client.create_run(exp_id)
    now = int(time.time() * 1000)
    metrics = [Metric("m", float(i), now + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(120)]
    mlflow_client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
    history = mlflow_client.get_metric_history(run.info.run_id, "m")
    assert [m.step for m in history] == list(range(2500))
    got = mlflow_client.get_run(run.info.run_id)
    assert len(got.data.params) == 150 and got.data.metrics["m"] == 2499.0
    assert sum(1 for k in got.data.tags if k.startswith("t")) == 120


def test_metric_history_keeps_every_point(mlflow_client: MlflowClient) -> None:
    exp_id = mlflow_client.create_experiment(unique("hist"))
    run_id = mlflow_client.create_run(exp_id).info.run_id
    for step in range(5):
        mlflow_client.log_metric(run_id, "loss", 1 / (step + 1), timestamp=100 + step, step=step)
    mlflow_client.log_metric(run_id, "odd", float("nan"), timestamp=1)
    history = mlflow_client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(s, 100 + s) for s in range(5)]
    assert math.isnan(mlflow_client.get_run(run_id).data.metrics["odd"])


def test_param_cannot_change(mlflow_client: MlflowClient) -> None:
    run_id = mlflow_client.create_run("0").info.run_id
    mlflow_client.log_param(run_id, "p", "1")
    mlflow_client.log_param(run_id, "p", "1")
    with pytest.raises(MlflowException) as info:
        mlflow_client.log_param(run_id, "p", "2")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_delete_tag_and_update_run(mlflow_client: MlflowClient) -> None:
    run_id = mlflow_client.create_run("0", tags={"keep": "1", "drop": "2"}).info.run_id
    mlflow_client.delete_tag(run_id, "drop")
    mlflow_client.update_run(run_id, name="renamed")
    got = mlflow_client.get_run(run_id)
    assert "drop" not in got.data.tags and got.data.tags["keep"] == "1"
    assert got.info.run_name == "renamed"
    mlflow_client.set_terminated(run_id, status="FINISHED")
    assert mlflow_client.get_run(run_id).info.status == "FINISHED"


def test_delete_and_restore_run(mlflow_client: MlflowClient) -> None:
    exp_id = mlflow_client.create_experiment(unique("del"))
    run_id = mlflow_client.create_run(exp_id).info.run_id
    mlflow_client.delete_run(run_id)
    assert mlflow_client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert mlflow_client.search_runs([exp_id]) == []
    deleted = mlflow_client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    mlflow_client.restore_run(run_id)
    assert [r.info.run_id for r in mlflow_client.search_runs([exp_id])] == [run_id]


def test_log_input_dataset(mlflow_client: MlflowClient) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="tiny", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = mlflow_client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "tiny"
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"


def test_get_unknown_run(mlflow_client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as info:
        mlflow_client.get_run(uuid.uuid4().hex)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# -- search_runs ---------------------------------------------------------------------------


@pytest.fixture
def searchable(mlflow_client: MlflowClient) -> tuple[str, list[str]]:
    """Four finished runs with known metrics, params, tags and names."""
    exp_id = mlflow_client.create_experiment(unique("search"))
    ids = []
    for i in range(4):
        run = mlflow_client.create_run(
            exp_id, start_time=1000 + i, tags={"group": "even" if i % 2 == 0 else "odd"},
            run_name=f"run-{i}",
        )  # fmt: skip
        rid = run.info.run_id
        mlflow_client.log_batch(
            rid,
            metrics=[Metric("acc", i / 4, 1, 0), Metric("loss", 1 - i / 4, 1, 0)],
            params=[Param("solver", "adam" if i < 2 else "sgd"), Param("depth", str(i))],
        )
        if i < 3:
            mlflow_client.set_terminated(rid, "FINISHED")
        ids.append(rid)
    return exp_id, ids


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.3", [2, 3]),
        ("metrics.acc >= 0.5 AND metrics.loss < 0.6", [2, 3]),
        ("metric.acc = 0", [0]),
        ("metrics.acc != 0", [1, 2, 3]),
        ("params.solver = 'adam'", [0, 1]),
        ("params.solver != 'adam'", [2, 3]),
        ("param.depth LIKE '%2'", [2]),
        ("params.solver ILIKE 'ADA%'", [0, 1]),
        ("tags.group = 'odd'", [1, 3]),
        ("tags.`group` = 'even'", [0, 2]),
        ("tags.missing IS NULL", [0, 1, 2, 3]),
        ("tags.group IS NOT NULL AND tags.group LIKE 'e%'", [0, 2]),
        ("attributes.status = 'RUNNING'", [3]),
        ("attributes.status != 'RUNNING'", [0, 1, 2]),
        ("attributes.run_name = 'run-2'", [2]),
        ("run_name LIKE 'run-%'", [0, 1, 2, 3]),
        ("tags.\"mlflow.runName\" = 'run-1'", [1]),
        ("attributes.start_time >= 1002", [2, 3]),
        ("attribute.created < 1001", [0]),
        ("metrics.acc > 0.2 AND params.solver = 'sgd' AND tags.group = 'even'", [2]),
    ],
)
def test_search_runs_filters(
    mlflow_client: MlflowClient, searchable: tuple[str, list[str]], filter_string: str, expected
) -> None:
    exp_id, ids = searchable
    found = mlflow_client.search_runs([exp_id], filter_string=filter_string)
    assert {r.info.run_id for r in found} == {ids[i] for i in expected}, filter_string


def test_search_runs_by_run_id_list(
    mlflow_client: MlflowClient, searchable: tuple[str, list[str]]
) -> None:
    exp_id, ids = searchable
    wanted = f"attributes.run_id IN ('{ids[0]}', '{ids[3]}')"
    found = mlflow_client.search_runs([exp_id], filter_string=wanted)
    assert {r.info.run_id for r in found} == {ids[0], ids[3]}
    unwanted = f"attributes.run_id NOT IN ('{ids[0]}')"
    assert len(mlflow_client.search_runs([exp_id], filter_string=unwanted)) == 3


def test_search_runs_order_and_pages(
    mlflow_client: MlflowClient, searchable: tuple[str, list[str]]
) -> None:
    exp_id, ids = searchable
    by_acc = mlflow_client.search_runs([exp_id], order_by=["metrics.acc DESC"])
    assert [r.info.run_id for r in by_acc] == ids[::-1]
    by_param = mlflow_client.search_runs([exp_id], order_by=["params.depth ASC"])
    assert [r.info.run_id for r in by_param] == ids
    default = mlflow_client.search_runs([exp_id])
    assert [r.info.run_id for r in default] == ids[::-1]  # newest start_time first

    first = mlflow_client.search_runs([exp_id], max_results=3, order_by=["attributes.start_time"])
    assert [r.info.run_id for r in first] == ids[:3] and first.token
    second = mlflow_client.search_runs(
        [exp_id], max_results=3, order_by=["attributes.start_time"], page_token=first.token
    )
    assert [r.info.run_id for r in second] == ids[3:] and not second.token


def test_search_runs_bad_filter_is_invalid_parameter(
    mlflow_client: MlflowClient, searchable: tuple[str, list[str]]
) -> None:
    exp_id, _ = searchable
    with pytest.raises(MlflowException) as info:
        mlflow_client.search_runs([exp_id], filter_string="metrics.acc >")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_fluent_search_runs_dataframe(
    mlflow_tracking: str, searchable: tuple[str, list[str]]
) -> None:
    pytest.importorskip("pandas")
    exp_id, ids = searchable
    frame = mlflow.search_runs([exp_id], filter_string="params.solver = 'sgd'")
    assert set(frame["run_id"]) == {ids[2], ids[3]}
    assert set(frame["metrics.acc"]) == {0.5, 0.75}
    assert set(frame["params.depth"]) == {"2", "3"}
    runs = mlflow.search_runs([exp_id], output_format="list", max_results=2)
    assert len(runs) == 2


def test_run_status_enum_round_trip(mlflow_client: MlflowClient) -> None:
    run_id = mlflow_client.create_run("0").info.run_id
    mlflow_client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.SCHEDULED))
    assert mlflow_client.get_run(run_id).info.status == "SCHEDULED"
