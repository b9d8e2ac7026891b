"""Run routes over HTTP: lifecycle, logging, inputs and search, in MLflow's wire format."""

from __future__ import annotations

import httpx
import pytest
from mltrail_live import assert_error


def get_run(api: httpx.Client, run_id: str) -> dict:
    answer = api.get("/runs/get", params={"run_id": run_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["run"]


def test_create_run_returns_full_run(api: httpx.Client, experiment_id: str) -> None:
    answer = api.post(
        "/runs/create",
        json={
            "experiment_id": experiment_id,
            "user_id": "ada",
            "run_name": "first",
            "start_time": 1234,
            "tags": [{"key": "mlflow.source.type", "value": "LOCAL"}],
        },
    )
    run = answer.json()["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"] and len(info["run_id"]) == 32
    assert info["experiment_id"] == experiment_id
    assert info["run_name"] == "first"
    assert info["user_id"] == "ada"
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 1234
    assert "end_time" not in info
    assert info["lifecycle_stage"] == "active"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"mlflow.source.type": "LOCAL", "mlflow.runName": "first"}
    assert run["inputs"] == {} and run["outputs"] == {}


def test_create_run_generates_a_name(api: httpx.Client, experiment_id: str) -> None:
    info = api.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"]
    assert info["run_name"] and len(info["run_name"]) <= 20


def test_create_run_in_default_experiment_when_none_given(api: httpx.Client) -> None:
    info = api.post("/runs/create", json={}).json()["run"]["info"]
    assert info["experiment_id"] == "0"


def test_create_run_in_unknown_experiment_is_404(api: httpx.Client) -> None:
    assert_error(
        api.post("/runs/create", json={"experiment_id": "99999"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_create_run_with_conflicting_names_is_400(api: httpx.Client, experiment_id: str) -> None:
    answer = api.post(
        "/runs/create",
        json={
            "experiment_id": experiment_id,
            "run_name": "a",
            "tags": [{"key": "mlflow.runName", "value": "b"}],
        },
    )
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "runName")


def test_update_run_accepts_run_uuid_and_status_by_name_or_number(
    api: httpx.Client, run_id: str
) -> None:
    answer = api.post(
        "/runs/update", json={"run_uuid": run_id, "status": "finished", "end_time": 5000}
    )
    info = answer.json()["run_info"]
    assert info["status"] == "FINISHED" and info["end_time"] == 5000
    info = api.post("/runs/update", json={"run_id": run_id, "status": 4}).json()["run_info"]
    assert info["status"] == "FAILED"


def test_update_run_name_rewrites_the_tag(api: httpx.Client, run_id: str) -> None:
    api.post("/runs/update", json={"run_id": run_id, "run_name": "renamed"})
    run = get_run(api, run_id)
    assert run["info"]["run_name"] == "renamed"
    assert {"key": "mlflow.runName", "value": "renamed"} in run["data"]["tags"]


def test_update_run_with_unknown_status_is_400(api: httpx.Client, run_id: str) -> None:
    answer = api.post("/runs/update", json={"run_id": run_id, "status": "PWNED"})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "status")
    assert get_run(api, run_id)["info"]["status"] == "RUNNING"


def test_delete_and_restore_run(api: httpx.Client, run_id: str) -> None:
    assert api.post("/runs/delete", json={"run_id": run_id}).json() == {}
    assert get_run(api, run_id)["info"]["lifecycle_stage"] == "deleted"
    answer = api.post("/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "active")
    assert api.post("/runs/restore", json={"run_id": run_id}).json() == {}
    assert get_run(api, run_id)["info"]["lifecycle_stage"] == "active"


def test_get_unknown_run_is_404(api: httpx.Client) -> None:
    answer = api.get("/runs/get", params={"run_id": "0" * 32})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")


def test_log_metric_param_tag_one_by_one(api: httpx.Client, run_id: str) -> None:
    metric = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 10, "step": 1}
    assert api.post("/runs/log-metric", json=metric).json() == {}
    param = {"run_id": run_id, "key": "lr", "value": "0.01"}
    assert api.post("/runs/log-parameter", json=param).json() == {}
    tag = {"run_id": run_id, "key": "note", "value": "hi"}
    assert api.post("/runs/set-tag", json=tag).json() == {}
    data = get_run(api, run_id)["data"]
    assert data["metrics"] == [{"key": "loss", "value": 0.5, "timestamp": 10, "step": 1}]
    assert data["params"] == [{"key": "lr", "value": "0.01"}]
    assert {"key": "note", "value": "hi"} in data["tags"]


def test_ints_as_strings_and_camel_case_names(api: httpx.Client, run_id: str) -> None:
    metric = {"runId": run_id, "key": "m", "value": "2.5", "timestamp": "20", "step": "3"}
    assert api.post("/runs/log-metric", json=metric).status_code == 200
    assert get_run(api, run_id)["data"]["metrics"] == [
        {"key": "m", "value": 2.5, "timestamp": 20, "step": 3}
    ]


def test_nan_and_infinity_travel_as_strings(api: httpx.Client, run_id: str) -> None:
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "nan", "value": "NaN", "timestamp": 1},
            {"key": "inf", "value": "Infinity", "timestamp": 1},
            {"key": "ninf", "value": "-Infinity", "timestamp": 1},
        ],
    }
    assert api.post("/runs/log-batch", json=batch).status_code == 200
    metrics = {m["key"]: m["value"] for m in get_run(api, run_id)["data"]["metrics"]}
    assert metrics["nan"] == "NaN"
    # The SQL store may keep infinities as the largest double, as MLflow's does.
    assert metrics["inf"] in ("Infinity", 1.7976931348623157e308)
    assert metrics["ninf"] in ("-Infinity", -1.7976931348623157e308)


def test_log_param_twice_same_value_ok_other_value_400(api: httpx.Client, run_id: str) -> None:
    param = {"run_id": run_id, "key": "p", "value": "1"}
    assert api.post("/runs/log-parameter", json=param).status_code == 200
    assert api.post("/runs/log-parameter", json=param).status_code == 200
    param["value"] = "2"
    assert_error(api.post("/runs/log-parameter", json=param), 400, "INVALID_PARAMETER_VALUE")
    assert get_run(api, run_id)["data"]["params"] == [{"key": "p", "value": "1"}]


def test_set_tag_overwrites_and_delete_tag(api: httpx.Client, run_id: str) -> None:
    for value in ("a", "b"):
        api.post("/runs/set-tag", json={"run_id": run_id, "key": "t", "value": value})
    assert {"key": "t", "value": "b"} in get_run(api, run_id)["data"]["tags"]
    assert api.post("/runs/delete-tag", json={"run_id": run_id, "key": "t"}).json() == {}
    assert all(t["key"] != "t" for t in get_run(api, run_id)["data"]["tags"])
    again = api.post("/runs/delete-tag", json={"run_id": run_id, "key": "t"})
    assert_error(again, 404, "RESOURCE_DOES_NOT_EXIST")


def test_setting_run_name_tag_renames_the_run(api: httpx.Client, run_id: str) -> None:
    api.post("/runs/set-tag", json={"run_id": run_id, "key": "mlflow.runName", "value": "x"})
    assert get_run(api, run_id)["info"]["run_name"] == "x"


def test_log_batch_writes_everything(api: httpx.Client, run_id: str) -> None:
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "acc", "value": i / 10, "timestamp": 100 + i, "step": i} for i in range(5)
        ],
        "params": [{"key": f"p{i}", "value": str(i)} for i in range(3)],
        "tags": [{"key": "kind", "value": "batch"}],
    }
    assert api.post("/runs/log-batch", json=batch).json() == {}
    data = get_run(api, run_id)["data"]
    assert data["metrics"] == [{"key": "acc", "value": 0.4, "timestamp": 104, "step": 4}]
    assert sorted(p["key"] for p in data["params"]) == ["p0", "p1", "p2"]
    history = api.get("/metrics/get-history", params={"run_id": run_id, "metric_key": "acc"})
    assert [m["step"] for m in history.json()["metrics"]] == [0, 1, 2, 3, 4]


def test_log_batch_same_point_twice_is_stored_once(api: httpx.Client, run_id: str) -> None:
    batch = {"run_id": run_id, "metrics": [{"key": "x", "value": 1.0, "timestamp": 5, "step": 0}]}
    api.post("/runs/log-batch", json=batch)
    api.post("/runs/log-batch", json=batch)
    history = api.get("/metrics/get-history", params={"run_id": run_id, "metric_key": "x"})
    assert len(history.json()["metrics"]) == 1


@pytest.mark.parametrize(
    ("field", "count", "words"),
    [
        ("metrics", 1001, ("1000 metrics",)),
        ("params", 101, ("100 params",)),
        ("tags", 101, ("100 tags",)),
    ],
)
def test_log_batch_over_limits_is_refused_whole(
    api: httpx.Client, run_id: str, field: str, count: int, words: tuple[str, ...]
) -> None:
    item = {"metrics": {"value": 1.0, "timestamp": 1}, "params": {"value": "v"}}.get(
        field, {"value": "v"}
    )
    batch = {"run_id": run_id, field: [{"key": f"k{i}", **item} for i in range(count)]}
    assert_error(api.post("/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", *words)
    assert "params" not in get_run(api, run_id)["data"]
    assert "metrics" not in get_run(api, run_id)["data"]


def test_log_batch_over_total_limit(api: httpx.Client, run_id: str) -> None:
    batch = {
        "run_id": run_id,
        "metrics": [{"key": f"m{i}", "value": 1, "timestamp": 1} for i in range(950)],
        "params": [{"key": f"p{i}", "value": "v"} for i in range(60)],
    }
    assert_error(api.post("/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", "1000")


def test_log_batch_duplicate_param_keys(api: httpx.Client, run_id: str) -> None:
    batch = {"run_id": run_id, "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}
    assert_error(api.post("/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", "a")


def test_log_batch_with_changed_param_writes_nothing(api: httpx.Client, run_id: str) -> None:
    api.post("/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
        "params": [{"key": "p", "value": "2"}],
    }
    assert_error(api.post("/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE")
    assert "metrics" not in get_run(api, run_id)["data"]


def test_log_inputs_shows_up_on_the_run(api: httpx.Client, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "datasets": [
            {
                "tags": [{"key": "mlflow.data.context", "value": "train"}],
                "dataset": {
                    "name": "iris",
                    "digest": "abc123",
                    "source_type": "local",
                    "source": '{"uri": "/data/iris.csv"}',
                    "schema": '{"cols": []}',
                },
            }
        ],
    }
    assert api.post("/runs/log-inputs", json=body).json() == {}
    inputs = get_run(api, run_id)["inputs"]["dataset_inputs"]
    assert inputs == [
        {
            "tags": [{"key": "mlflow.data.context", "value": "train"}],
            "dataset": {
                "name": "iris",
                "digest": "abc123",
                "source_type": "local",
                "source": '{"uri": "/data/iris.csv"}',
                "schema": '{"cols": []}',
            },
        }
    ]


def test_log_inputs_needs_dataset_fields(api: httpx.Client, run_id: str) -> None:
    body = {"run_id": run_id, "datasets": [{"dataset": {"name": "iris"}}]}
    assert_error(
        api.post("/runs/log-inputs", json=body), 400, "INVALID_PARAMETER_VALUE", "datasets[0]"
    )


def _runs(api: httpx.Client, experiment_id: str, **body: object) -> list[dict]:
    answer = api.post("/runs/search", json={"experiment_ids": [experiment_id], **body})
    assert answer.status_code == 200, answer.text
    return answer.json().get("runs", [])


def test_search_runs_filters_and_orders(api: httpx.Client, experiment_id: str) -> None:
    ids = []
    for i in range(4):
        run = api.post("/runs/create", json={"experiment_id": experiment_id, "start_time": i})
        rid = run.json()["run"]["info"]["run_id"]
        ids.append(rid)
        api.post(
            "/runs/log-batch",
            json={
                "run_id": rid,
                "metrics": [{"key": "acc", "value": i / 4, "timestamp": 1}],
                "params": [{"key": "solver", "value": "adam" if i % 2 else "sgd"}],
            },
        )
    found = _runs(api, experiment_id, filter="metrics.acc > 0.3", order_by=["metrics.acc DESC"])
    assert [r["info"]["run_id"] for r in found] == [ids[3], ids[2]]
    found = _runs(api, experiment_id, filter="params.solver = 'adam'")
    assert {r["info"]["run_id"] for r in found} == {ids[1], ids[3]}
    assert [r["info"]["run_id"] for r in _runs(api, experiment_id)] == ids[::-1]


def test_search_runs_pages(api: httpx.Client, experiment_id: str) -> None:
    for i in range(5):
        api.post("/runs/create", json={"experiment_id": experiment_id, "start_time": i})
    body = {"experiment_ids": [experiment_id], "max_results": 2}
    first = api.post("/runs/search", json=body).json()
    assert len(first["runs"]) == 2 and first["next_page_token"]
    seen = [r["info"]["run_id"] for r in first["runs"]]
    token = first["next_page_token"]
    while token:
        page = api.post("/runs/search", json={**body, "page_token": token}).json()
        seen += [r["info"]["run_id"] for r in page["runs"]]
        token = page.get("next_page_token")
    assert len(seen) == len(set(seen)) == 5


def test_search_runs_view_type(api: httpx.Client, experiment_id: str, run_id: str) -> None:
    api.post("/runs/delete", json={"run_id": run_id})
    assert _runs(api, experiment_id) == []
    assert [r["info"]["run_id"] for r in _runs(api, experiment_id, run_view_type="ALL")] == [run_id]
    deleted = _runs(api, experiment_id, run_view_type="DELETED_ONLY")
    assert [r["info"]["run_id"] for r in deleted] == [run_id]


def test_search_runs_without_experiments_is_empty(api: httpx.Client) -> None:
    assert api.post("/runs/search", json={}).json() == {}


def test_search_runs_bad_filter(api: httpx.Client, experiment_id: str) -> None:
    answer = api.post(
        "/runs/search", json={"experiment_ids": [experiment_id], "filter": "metrics.acc > 'x'"}
    )
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_search_runs_bad_page_token(api: httpx.Client, experiment_id: str) -> None:
    answer = api.post(
        "/runs/search", json={"experiment_ids": [experiment_id], "page_token": "garbage!"}
    )
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "page token")
