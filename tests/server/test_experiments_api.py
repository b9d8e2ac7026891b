"""Experiment routes over HTTP, in MLflow's wire format."""

from __future__ import annotations

import uuid

import httpx
from mltrail_live import assert_error


def unique(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_create_then_get_returns_mlflow_shape(api: httpx.Client) -> None:
    name = unique()
    created = api.post(
        "/experiments/create", json={"name": name, "tags": [{"key": "team", "value": "vision"}]}
    )
    assert created.status_code == 200
    assert created.headers["content-type"] == "application/json"
    exp_id = created.json()["experiment_id"]
    assert isinstance(exp_id, str) and exp_id.isdigit()

    exp = api.get("/experiments/get", params={"experiment_id": exp_id}).json()["experiment"]
    assert exp["experiment_id"] == exp_id
    assert exp["name"] == name
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    assert exp["lifecycle_stage"] == "active"
    assert isinstance(exp["creation_time"], int) and isinstance(exp["last_update_time"], int)
    assert exp["tags"] == [{"key": "team", "value": "vision"}]


def test_default_experiment_exists(api: httpx.Client) -> None:
    exp = api.get("/experiments/get", params={"experiment_id": "0"}).json()["experiment"]
    assert exp["name"] == "Default"


def test_experiment_without_tags_leaves_the_field_out(api: httpx.Client) -> None:
    exp_id = api.post("/experiments/create", json={"name": unique()}).json()["experiment_id"]
    exp = api.get("/experiments/get", params={"experiment_id": exp_id}).json()["experiment"]
    assert "tags" not in exp


def test_get_by_name(api: httpx.Client, experiment_id: str) -> None:
    name = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()[
        "experiment"
    ]["name"]
    found = api.get("/experiments/get-by-name", params={"experiment_name": name})
    assert found.json()["experiment"]["experiment_id"] == experiment_id


def test_get_by_unknown_name_is_resource_does_not_exist(api: httpx.Client) -> None:
    answer = api.get("/experiments/get-by-name", params={"experiment_name": unique("missing")})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")


def test_get_unknown_id_is_404(api: httpx.Client) -> None:
    assert_error(
        api.get("/experiments/get", params={"experiment_id": "987654"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_get_non_integer_id_is_400(api: httpx.Client) -> None:
    assert_error(
        api.get("/experiments/get", params={"experiment_id": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_duplicate_name_is_resource_already_exists_with_400(api: httpx.Client) -> None:
    name = unique()
    assert api.post("/experiments/create", json={"name": name}).status_code == 200
    answer = api.post("/experiments/create", json={"name": name})
    assert_error(answer, 400, "RESOURCE_ALREADY_EXISTS", name)


def test_create_with_artifact_location(api: httpx.Client) -> None:
    where = f"mlflow-artifacts:/team-{unique()}"  # inside the server's root, through the proxy
    exp_id = api.post(
        "/experiments/create", json={"name": unique(), "artifact_location": where}
    ).json()["experiment_id"]
    exp = api.get("/experiments/get", params={"experiment_id": exp_id}).json()["experiment"]
    assert exp["artifact_location"] == where


def test_rename(api: httpx.Client, experiment_id: str) -> None:
    new_name = unique("renamed")
    answer = api.post(
        "/experiments/update", json={"experiment_id": experiment_id, "new_name": new_name}
    )
    assert answer.status_code == 200 and answer.json() == {}
    exp = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()
    assert exp["experiment"]["name"] == new_name


def test_rename_needs_new_name(api: httpx.Client, experiment_id: str) -> None:
    answer = api.post("/experiments/update", json={"experiment_id": experiment_id})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "new_name")


def test_delete_and_restore_take_the_runs_along(
    api: httpx.Client, experiment_id: str, run_id: str
) -> None:
    assert api.post("/experiments/delete", json={"experiment_id": experiment_id}).json() == {}
    exp = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()
    assert exp["experiment"]["lifecycle_stage"] == "deleted"
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["info"]["lifecycle_stage"] == "deleted"

    assert api.post("/experiments/restore", json={"experiment_id": experiment_id}).json() == {}
    exp = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()
    assert exp["experiment"]["lifecycle_stage"] == "active"
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["info"]["lifecycle_stage"] == "active"


def test_set_and_delete_experiment_tag(api: httpx.Client, experiment_id: str) -> None:
    body = {"experiment_id": experiment_id, "key": "stage", "value": "dev"}
    assert api.post("/experiments/set-experiment-tag", json=body).json() == {}
    body["value"] = "prod"
    api.post("/experiments/set-experiment-tag", json=body)
    exp = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()
    assert exp["experiment"]["tags"] == [{"key": "stage", "value": "prod"}]

    gone = {"experiment_id": experiment_id, "key": "stage"}
    assert api.post("/experiments/delete-experiment-tag", json=gone).json() == {}
    exp = api.get("/experiments/get", params={"experiment_id": experiment_id}).json()
    assert "tags" not in exp["experiment"]
    again = api.post("/experiments/delete-experiment-tag", json=gone)
    assert_error(again, 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_post_and_get_agree(api: httpx.Client) -> None:
    prefix = unique("search")
    ids = [
        api.post("/experiments/create", json={"name": f"{prefix}-{i}"}).json()["experiment_id"]
        for i in range(3)
    ]
    body = {"filter": f"name LIKE '{prefix}-%'", "max_results": 10, "order_by": ["name ASC"]}
    posted = api.post("/experiments/search", json=body).json()
    got = api.get("/experiments/search", params=body).json()
    assert [e["experiment_id"] for e in posted["experiments"]] == ids
    assert posted == got
    assert "next_page_token" not in posted


def test_search_pages_with_tokens(api: httpx.Client) -> None:
    prefix = unique("page")
    for i in range(5):
        api.post("/experiments/create", json={"name": f"{prefix}-{i}"})
    seen: list[str] = []
    token = None
    for _ in range(5):
        body = {"filter": f"name LIKE '{prefix}-%'", "max_results": 2, "order_by": ["name"]}
        if token:
            body["page_token"] = token
        page = api.post("/experiments/search", json=body).json()
        seen += [e["name"] for e in page["experiments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [f"{prefix}-{i}" for i in range(5)]


def test_empty_search_is_an_empty_object(api: httpx.Client) -> None:
    answer = api.post("/experiments/search", json={"filter": f"name = '{unique('none')}'"})
    assert answer.status_code == 200
    assert answer.json() == {}


def test_search_view_types(api: httpx.Client, experiment_id: str) -> None:
    api.post("/experiments/delete", json={"experiment_id": experiment_id})
    for view, present in (("ACTIVE_ONLY", False), ("DELETED_ONLY", True), ("ALL", True), (3, True)):
        page = api.post("/experiments/search", json={"view_type": view, "max_results": 1000}).json()
        ids = [e["experiment_id"] for e in page.get("experiments", [])]
        assert (experiment_id in ids) is present, view


def test_search_by_tag(api: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    exp_id = api.post(
        "/experiments/create", json={"name": unique(), "tags": [{"key": "m", "value": marker}]}
    ).json()["experiment_id"]
    page = api.post("/experiments/search", json={"filter": f"tags.m = '{marker}'"}).json()
    assert [e["experiment_id"] for e in page["experiments"]] == [exp_id]


def test_search_with_bad_filter_says_where(api: httpx.Client) -> None:
    answer = api.post("/experiments/search", json={"filter": "name = "})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_search_max_results_limits(api: httpx.Client) -> None:
    for bad in (0, -1, 50001):
        answer = api.post("/experiments/search", json={"max_results": bad})
        assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "max_results")


def test_ajax_api_mirror(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        name = unique("ajax")
        created = client.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": name})
        exp_id = created.json()["experiment_id"]
        answer = client.get(
            "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
        )
        assert answer.json()["experiment"]["experiment_id"] == exp_id
