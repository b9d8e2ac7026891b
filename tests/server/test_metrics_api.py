"""Metric history routes: paged full history, sampled intervals, and the UI's bulk history."""

from __future__ import annotations

import httpx
from mltrail_live import assert_error


def log_points(api: httpx.Client, run_id: str, key: str, steps: range) -> None:
    batch = [{"key": key, "value": s * 1.5, "timestamp": 1000 + s, "step": s} for s in steps]
    for start in range(0, len(batch), 1000):
        answer = api.post(
            "/runs/log-batch", json={"run_id": run_id, "metrics": batch[start : start + 1000]}
        )
        assert answer.status_code == 200, answer.text


def test_history_without_max_results_is_whole_and_ordered(api: httpx.Client, run_id: str) -> None:
    log_points(api, run_id, "loss", range(30))
    answer = api.get("/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    body = answer.json()
    assert "next_page_token" not in body
    assert [m["step"] for m in body["metrics"]] == list(range(30))
    assert body["metrics"][3] == {"key": "loss", "value": 4.5, "timestamp": 1003, "step": 3}


def test_history_pages(api: httpx.Client, run_id: str) -> None:
    log_points(api, run_id, "loss", range(25))
    steps: list[int] = []
    params = {"run_uuid": run_id, "metric_key": "loss", "max_results": "10"}
    while True:
        body = api.get("/metrics/get-history", params=params).json()
        steps += [m["step"] for m in body["metrics"]]
        if "next_page_token" not in body:
            break
        params["page_token"] = body["next_page_token"]
    assert steps == list(range(25))


def test_history_of_unknown_key_is_empty(api: httpx.Client, run_id: str) -> None:
    answer = api.get("/metrics/get-history", params={"run_id": run_id, "metric_key": "nope"})
    assert answer.status_code == 200 and answer.json() == {}


def test_history_errors(api: httpx.Client, run_id: str) -> None:
    assert_error(
        api.get("/metrics/get-history", params={"run_id": run_id}),
        400,
        "INVALID_PARAMETER_VALUE",
        "metric_key",
    )
    assert_error(
        api.get("/metrics/get-history", params={"metric_key": "m"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "run_id",
    )
    assert_error(
        api.get("/metrics/get-history", params={"run_id": "f" * 32, "metric_key": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_error(
        api.get(
            "/metrics/get-history", params={"run_id": run_id, "metric_key": "m", "max_results": 0}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_bulk_interval_samples_each_run(api: httpx.Client, experiment_id: str) -> None:
    runs = []
    for _ in range(2):
        created = api.post("/runs/create", json={"experiment_id": experiment_id})
        runs.append(created.json()["run"]["info"]["run_id"])
    for rid in runs:
        log_points(api, rid, "acc", range(200))
    answer = api.get(
        "/metrics/get-history-bulk-interval",
        params={"run_ids": runs, "metric_key": "acc", "max_results": 10},
    )
    points = answer.json()["metrics"]
    for rid in runs:
        steps = [p["step"] for p in points if p["run_id"] == rid]
        assert 2 <= len(steps) <= 10
        assert steps[0] == 0 and steps[-1] == 199
    assert set(points[0]) == {"key", "value", "timestamp", "step", "run_id"}


def test_bulk_interval_step_window(api: httpx.Client, run_id: str) -> None:
    log_points(api, run_id, "acc", range(50))
    answer = api.get(
        "/metrics/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "acc", "start_step": 10, "end_step": 20},
    )
    steps = [p["step"] for p in answer.json()["metrics"]]
    assert steps and min(steps) >= 10 and max(steps) <= 20


def test_bulk_interval_errors(api: httpx.Client, run_id: str) -> None:
    url = "/metrics/get-history-bulk-interval"
    assert_error(api.get(url, params={"metric_key": "acc"}), 400, "INVALID_PARAMETER_VALUE")
    only_start = {"run_ids": run_id, "metric_key": "acc", "start_step": 1}
    assert_error(api.get(url, params=only_start), 400, "INVALID_PARAMETER_VALUE")
    too_many = {"run_ids": run_id, "metric_key": "acc", "max_results": 2501}
    assert_error(api.get(url, params=too_many), 400, "INVALID_PARAMETER_VALUE")


def test_ui_bulk_history(live_server, api: httpx.Client, experiment_id: str) -> None:
    runs = sorted(
        api.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"][
            "run_id"
        ]
        for _ in range(2)
    )
    for rid in runs:
        log_points(api, rid, "loss", range(3))
    answer = httpx.get(
        live_server.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
        params={"run_id": runs, "metric_key": "loss"},
    )
    points = answer.json()["metrics"]
    assert [(p["run_id"], p["step"]) for p in points] == [(r, s) for r in runs for s in range(3)]


def test_bulk_history_max_results_bounds_the_whole_answer(
    live_server, api: httpx.Client, experiment_id: str
) -> None:
    # As MLflow's server: the limit is on the total (runs in id order), and a limit above
    # 25000 is taken as 25000 rather than refused.
    runs = sorted(
        api.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"][
            "run_id"
        ]
        for _ in range(2)
    )
    for rid in runs:
        log_points(api, rid, "loss", range(4))
    url = live_server.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
    answer = httpx.get(url, params={"run_id": runs, "metric_key": "loss", "max_results": 6})
    points = answer.json()["metrics"]
    assert [(p["run_id"], p["step"]) for p in points] == [
        (runs[0], 0), (runs[0], 1), (runs[0], 2), (runs[0], 3), (runs[1], 0), (runs[1], 1)
    ]  # fmt: skip
    big = {"run_id": runs, "metric_key": "loss", "max_results": 100000}
    assert len(httpx.get(url, params=big).json()["metrics"]) == 8
