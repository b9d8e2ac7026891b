"""RestStore against the live server: the store contract over MLflow's REST wire format."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qs, urlsplit

import pytest

from mltrail.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail.exceptions import AlreadyExists, InvalidParameter, MltrailException, NotFound
from mltrail.store.rest import RestStore, split_batch


def bodies(session, endpoint: str) -> list[dict]:
    return [json.loads(r.body) for r in session.sent if r.url.endswith(endpoint)]


def test_experiments(store: RestStore) -> None:
    exp_id = store.create_experiment("first", tags=[ExperimentTag("team", "vision")])
    exp = store.get_experiment(exp_id)
    assert (exp.name, exp.lifecycle_stage, exp.tags) == ("first", "active", {"team": "vision"})
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert store.get_experiment_by_name("first").experiment_id == exp_id
    assert store.get_experiment_by_name("nope") is None
    with pytest.raises(AlreadyExists):
        store.create_experiment("first")
    with pytest.raises(NotFound):
        store.get_experiment("424242")

    store.rename_experiment(exp_id, "renamed")
    store.set_experiment_tag(exp_id, ExperimentTag("k", "v"))
    store.delete_experiment_tag(exp_id, "team")
    assert store.get_experiment(exp_id).tags == {"k": "v"}
    for i in range(3):
        store.create_experiment(f"more-{i}")
    page = store.search_experiments(max_results=2, order_by=["name ASC"])
    assert len(page) == 2 and page.token
    rest = store.search_experiments(max_results=10, order_by=["name ASC"], page_token=page.token)
    assert [e.name for e in page + rest] == ["Default", "more-0", "more-1", "more-2", "renamed"]

    found = store.search_experiments(filter_string="name LIKE 'more-%'")
    assert sorted(e.name for e in found) == ["more-0", "more-1", "more-2"]

    uni = store.create_experiment("实验 ünïcode")
    assert store.get_experiment_by_name("实验 ünïcode").experiment_id == uni

    store.delete_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert exp_id not in [e.experiment_id for e in store.search_experiments()]
    deleted = store.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [exp_id]
    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == "active"


def test_runs_and_wire_format(store: RestStore, session) -> None:
    exp_id = store.create_experiment("runs")
    run = store.create_run(exp_id, "alice", 1000, [RunTag("mlflow.user", "alice")], "my-run")
    run_id = run.info.run_id
    assert (run.info.run_name, run.info.status, run.info.start_time) == ("my-run", "RUNNING", 1000)
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"

    metrics = [
        Metric("loss", 0.5, 10, 0),
        Metric("loss", float("nan"), 11, 1),
        Metric("big", float("inf"), 12, 0),
        Metric("small", float("-inf"), 12, 0),
    ]
    store.log_batch(run_id, metrics, [Param("lr", "0.1")], [RunTag("stage", "train")])
    sent = bodies(session, "/runs/log-batch")[0]
    assert [m["value"] for m in sent["metrics"]] == [0.5, "NaN", "Infinity", "-Infinity"]

    got = store.get_run(run_id)
    assert math.isnan(got.data.metrics["loss"])
    assert got.data.metrics["big"] > 1e308 and got.data.metrics["small"] < -1e308
    assert got.data.params == {"lr": "0.1"}
    assert got.data.tags["stage"] == "train" and got.data.tags["mlflow.runName"] == "my-run"
    query = parse_qs(urlsplit(next(r.url for r in session.sent if "/runs/get" in r.url)).query)
    assert query == {"run_id": [run_id], "run_uuid": [run_id]}

    info = store.update_run_info(run_id, status="FINISHED", end_time=2000, run_name="renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 2000, "renamed")
    update = bodies(session, "/runs/update")[0]
    assert update["run_id"] == update["run_uuid"] == run_id

    store.delete_tag(run_id, "stage")
    assert "stage" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        store.delete_tag(run_id, "stage")

    dataset = Dataset("iris", "abc123", "local", "/data/iris.csv")
    store.log_inputs(run_id, [DatasetInput(dataset, (InputTag("mlflow.data.context", "train"),))])
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert inputs[0].dataset.name == "iris" and inputs[0].tags[0].value == "train"

    found = store.search_runs([exp_id], "params.lr = '0.1' and metrics.big > 0")
    assert [r.info.run_id for r in found] == [run_id]
    store.delete_run(run_id)
    assert store.search_runs([exp_id]) == []
    assert len(store.search_runs([exp_id], run_view_type=ViewType.ALL)) == 1
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "active"


def test_error_bodies_map_to_exception_classes(store: RestStore, session) -> None:
    exp_id = store.create_experiment("errors")
    run_id = store.create_run(exp_id, "u", 0).info.run_id
    with pytest.raises(NotFound, match="not found"):
        store.get_run("0" * 32)
    store.log_batch(run_id, params=[Param("p", "1")])
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        store.log_batch(run_id, params=[Param("p", "2")])
    with pytest.raises(InvalidParameter) as caught:
        store.create_experiment("")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    store.delete_run(run_id)
    with pytest.raises(MltrailException) as caught:
        store.log_batch(run_id, params=[Param("q", "1")])
    assert "must be in the 'active' state" in caught.value.message


def test_write_batch_is_split_into_mlflow_sized_requests(store: RestStore, session) -> None:
    run_id = store.create_run("0", "u", 0).info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    store.write_batch(run_id, metrics, params, tags)
    sent = bodies(session, "/runs/log-batch")
    # 3 requests of params (the last topped up with metrics), 2 more of metrics, then tags.
    assert len(sent) == 6
    for body in sent:
        counts = [len(body.get(k, [])) for k in ("metrics", "params", "tags")]
        assert counts[0] <= 1000 and counts[1] <= 100 and counts[2] <= 100 and sum(counts) <= 1000
    order = [k for body in sent for k in ("params", "metrics", "tags") if body.get(k)]
    assert order == ["params"] * 3 + ["metrics"] * 3 + ["tags"] * 2
    run = store.get_run(run_id)
    assert len(run.data.params) == 250 and len(run.data.tags) >= 150
    assert len(store.get_metric_history(run_id, "m")) == 2500


def test_split_batch_limits() -> None:
    assert split_batch([], [], []) == []
    chunks = split_batch([Metric("m", 0.0, 0)] * 950, [Param("p", "v")] * 100, [RunTag("t", "")])
    assert [(len(p), len(m), len(t)) for p, m, t in chunks] == [(100, 900, 0), (0, 50, 1)]


def test_metric_history_paging(store: RestStore, session) -> None:
    run_id = store.create_run("0", "u", 0).info.run_id
    other = store.create_run("0", "u", 0).info.run_id
    store.write_batch(run_id, [Metric("acc", i / 10, 5000 + i, i) for i in range(2500)])
    store.write_batch(other, [Metric("acc", 1.0, 1, i) for i in range(10)])
    pages, token = [], None
    while True:
        page = store.get_metric_history(run_id, "acc", max_results=1000, page_token=token)
        pages.append(len(page))
        token = page.token
        if not token:
            break
    assert pages == [1000, 1000, 500]
    full = store.get_metric_history(run_id, "acc")
    assert [m.step for m in full] == list(range(2500))
    assert full[7].value == pytest.approx(0.7) and full[7].timestamp == 5007
    with pytest.raises(InvalidParameter):
        store.get_metric_history(run_id, "acc", max_results=0)

    sampled = store.get_metric_history_bulk_interval([run_id, other], "acc", max_results=50)
    assert {m.run_id for m in sampled} == {run_id, other}
    url = next(r.url for r in session.sent if "bulk-interval" in r.url)
    assert parse_qs(urlsplit(url).query)["run_ids"] == [run_id, other]
