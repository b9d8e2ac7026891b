"""Bad input of every kind gets a 4xx with MLflow's error body, never a 500 or a traceback,
and changes nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest
from mltrail_live import assert_error

JSON = {"content-type": "application/json"}


def experiment_count(api: httpx.Client) -> int:
    page = api.post("/experiments/search", json={"max_results": 50000, "view_type": "ALL"})
    return len(page.json().get("experiments", []))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"name": ', "BAD_REQUEST"),
        (b"not json at all", "BAD_REQUEST"),
        (b"[1, 2, 3]", "INVALID_PARAMETER_VALUE"),
        (b"42", "INVALID_PARAMETER_VALUE"),
        (b"null", "INVALID_PARAMETER_VALUE"),
        (b"[" * 100_000, "BAD_REQUEST"),
        (b'{"name": "\xff\xfe"}', "BAD_REQUEST"),
    ],
)
def test_malformed_bodies_are_400(api: httpx.Client, raw: bytes, code: str) -> None:
    before = experiment_count(api)
    answer = api.post("/experiments/create", content=raw, headers=JSON)
    assert_error(answer, 400, code)
    assert experiment_count(api) == before


def test_double_encoded_body_is_accepted(api: httpx.Client) -> None:
    import json

    name = f"twice-{uuid.uuid4().hex[:8]}"
    raw = json.dumps(json.dumps({"name": name}))
    answer = api.post("/experiments/create", content=raw, headers=JSON)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, ("missing",)),
        ({"content-type": "text/plain"}, ("application/json",)),
        ({"content-type": "application/x-www-form-urlencoded"}, ("application/json",)),
    ],
)
def test_post_needs_json_content_type(api: httpx.Client, headers: dict, words: tuple) -> None:
    before = experiment_count(api)
    body = b'{"name": "sneaky"}'
    answer = api.post("/experiments/create", content=body, headers=headers)
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", *words)
    assert experiment_count(api) == before


def test_content_type_with_charset_is_fine(api: httpx.Client) -> None:
    body = f'{{"name": "cs-{uuid.uuid4().hex[:8]}"}}'
    answer = api.post(
        "/experiments/create",
        content=body,
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": {"a": 1}}, "name"),
        ({"name": "ok", "tags": "nope"}, "tags"),
        ({"name": "ok", "tags": [{"value": "v"}]}, "tags[0].key"),
        ({"name": "bad\u0000name"}, "name"),
    ],
)
def test_wrong_types_and_missing_fields_name_the_field(
    api: httpx.Client, body: dict, where: str
) -> None:
    before = experiment_count(api)
    answer = api.post("/experiments/create", json=body)
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", f"'{where}'")
    assert experiment_count(api) == before


def test_unknown_fields_are_ignored(api: httpx.Client) -> None:
    name = f"extra-{uuid.uuid4().hex[:8]}"
    answer = api.post("/experiments/create", json={"name": name, "whatever": [1, {"x": 2}]})
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("metric", "where"),
    [
        ({"key": "m", "value": "abc", "timestamp": 1}, "value"),
        ({"key": "m", "value": 1.0}, "timestamp"),
        ({"key": "m", "timestamp": 1}, "value"),
        ({"value": 1.0, "timestamp": 1}, "key"),
        ({"key": "m", "value": 1.0, "timestamp": 2**64}, "timestamp"),
        ({"key": "m", "value": 1.0, "timestamp": 1, "step": 1.5}, "step"),
        ({"key": "m", "value": 1.0, "timestamp": "soon"}, "timestamp"),
    ],
)
def test_bad_metric_fields(api: httpx.Client, run_id: str, metric: dict, where: str) -> None:
    answer = api.post("/runs/log-metric", json={"run_id": run_id, **metric})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", where)
    batch = api.post("/runs/log-batch", json={"run_id": run_id, "metrics": [metric]})
    assert_error(batch, 400, "INVALID_PARAMETER_VALUE", f"metrics[0].{where}")
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert "metrics" not in run["data"]


@pytest.mark.parametrize("key", ["", "bad*key", "/abs", "a/../b", "x" * 300, "tab\tkey"])
def test_bad_keys(api: httpx.Client, run_id: str, key: str) -> None:
    answer = api.post("/runs/log-parameter", json={"run_id": run_id, "key": key, "value": "v"})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_negative_timestamp(api: httpx.Client, run_id: str) -> None:
    metric = {"run_id": run_id, "key": "m", "value": 1, "timestamp": -5}
    assert_error(api.post("/runs/log-metric", json=metric), 400, "INVALID_PARAMETER_VALUE")


def test_too_long_values(api: httpx.Client, run_id: str, experiment_id: str) -> None:
    from mltrail.utils.validation import MAX_PARAM_VAL_LENGTH

    param = {"run_id": run_id, "key": "p", "value": "v" * (MAX_PARAM_VAL_LENGTH + 1)}
    assert_error(api.post("/runs/log-parameter", json=param), 400, "INVALID_PARAMETER_VALUE")
    tag = {"run_id": run_id, "key": "t", "value": "v" * 10_000_00}
    assert_error(api.post("/runs/set-tag", json=tag), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        api.post("/experiments/create", json={"name": "n" * 501}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_missing_run_id_everywhere(api: httpx.Client) -> None:
    for path in ("/runs/update", "/runs/delete", "/runs/log-batch", "/runs/log-inputs"):
        assert_error(api.post(path, json={}), 400, "INVALID_PARAMETER_VALUE", "run_id")
    assert_error(api.get("/runs/get"), 400, "INVALID_PARAMETER_VALUE", "run_id")


def test_unknown_ids_are_404(api: httpx.Client) -> None:
    ghost = uuid.uuid4().hex
    for path, body in [
        ("/runs/update", {"run_id": ghost, "status": "FINISHED"}),
        ("/runs/delete", {"run_id": ghost}),
        ("/runs/log-batch", {"run_id": ghost, "params": [{"key": "a", "value": "b"}]}),
        ("/experiments/delete", {"experiment_id": "424242"}),
        ("/experiments/update", {"experiment_id": "424242", "new_name": "x"}),
    ]:
        assert_error(api.post(path, json=body), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    "exp_id", ["99999999999999999999", "9999999999999999999", "1e3", "-1", " 1"]
)
def test_odd_experiment_ids(api: httpx.Client, exp_id: str) -> None:
    answer = api.get("/experiments/get", params={"experiment_id": exp_id})
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def test_bad_enum_values(api: httpx.Client, run_id: str) -> None:
    assert_error(
        api.post("/experiments/search", json={"view_type": "SOME"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        api.post("/runs/update", json={"run_id": run_id, "status": 9}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_bad_query_values(api: httpx.Client, run_id: str) -> None:
    params = {"run_id": run_id, "metric_key": "m", "max_results": "many"}
    assert_error(
        api.get("/metrics/get-history", params=params),
        400,
        "INVALID_PARAMETER_VALUE",
        "max_results",
    )


def test_body_over_the_cap_is_413(api: httpx.Client) -> None:
    from mltrail.server.settings import ServerSettings

    cap = ServerSettings("sqlite://", "x", "y").max_body_bytes
    answer = api.post("/experiments/create", content=b" " * (cap + 1), headers=JSON)
    assert answer.status_code == 413
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_chunked_body_over_the_cap_is_413(api: httpx.Client) -> None:
    from mltrail.server.settings import ServerSettings

    cap = ServerSettings("sqlite://", "x", "y").max_body_bytes

    def chunks():
        piece = b" " * (1024 * 1024)
        for _ in range(cap // len(piece) + 2):
            yield piece

    answer = api.post("/experiments/create", content=chunks(), headers=JSON)
    assert answer.status_code == 413
