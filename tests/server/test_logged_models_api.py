"""Logged model routes over HTTP, in MLflow's wire format: create, get, finalize, delete,
search, tags, params, artifact listings through the proxy, ``/runs/outputs`` and the run's
inputs and outputs; bad input gets one clear 4xx and changes nothing."""

from __future__ import annotations

import re

import httpx
import pytest
from mltrail_live import assert_error

MISSING = "m-" + "0" * 32


def create(api: httpx.Client, experiment_id: str, **fields: object) -> dict:
    answer = api.post("/logged-models", json={"experiment_id": experiment_id, **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()["model"]


def get(api: httpx.Client, model_id: str, **params: str) -> httpx.Response:
    return api.get(f"/logged-models/{model_id}", params=params)


def search(api: httpx.Client, **body: object) -> dict:
    answer = api.post("/logged-models/search", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def count_models(api: httpx.Client, experiment_id: str) -> int:
    return len(search(api, experiment_ids=[experiment_id], max_results=1000).get("models", []))


def test_create_answers_a_full_model(api: httpx.Client, experiment_id: str, run_id: str) -> None:
    model = create(
        api,
        experiment_id,
        name="clf",
        model_type="classifier",
        source_run_id=run_id,
        params=[{"key": "C", "value": "1.0"}],
        tags=[{"key": "mlflow.user", "value": "ada"}],
    )
    info = model["info"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", info["model_id"])
    assert info["experiment_id"] == experiment_id
    assert info["name"] == "clf"
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == (
        f"mlflow-artifacts:/{experiment_id}/models/{info['model_id']}/artifacts"
    )
    assert info["creation_timestamp_ms"] == info["last_updated_timestamp_ms"] > 0
    assert info["source_run_id"] == run_id and info["model_type"] == "classifier"
    assert info["tags"] == [{"key": "mlflow.user", "value": "ada"}]
    assert model["data"] == {"params": [{"key": "C", "value": "1.0"}]}
    assert get(api, info["model_id"]).json()["model"] == model


def test_unset_fields_are_left_out(api: httpx.Client, experiment_id: str) -> None:
    model = create(api, experiment_id)
    assert model["data"] == {}
    assert not {"model_type", "source_run_id", "status_message", "tags"} & set(model["info"])
    assert model["info"]["name"]


def test_get_on_both_prefixes(live_server, experiment_id: str, api: httpx.Client) -> None:
    model_id = create(api, experiment_id, name="twice")["info"]["model_id"]
    with httpx.Client(base_url=live_server.url) as root:
        for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
            answer = root.get(f"{prefix}/logged-models/{model_id}")
            assert answer.json()["model"]["info"]["name"] == "twice"


def test_finalize_reads_the_id_from_the_body(api: httpx.Client, experiment_id: str) -> None:
    first = create(api, experiment_id, name="first")["info"]["model_id"]
    second = create(api, experiment_id, name="second")["info"]["model_id"]
    answer = api.patch(
        f"/logged-models/{first}", json={"model_id": second, "status": "LOGGED_MODEL_READY"}
    )
    assert answer.json()["model"]["info"]["model_id"] == second
    assert answer.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    assert get(api, first).json()["model"]["info"]["status"] == "LOGGED_MODEL_PENDING"
    by_number = api.patch(f"/logged-models/{first}", json={"model_id": first, "status": 3})
    assert by_number.json()["model"]["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"


def test_finalize_bad_input(api: httpx.Client, experiment_id: str) -> None:
    model_id = create(api, experiment_id)["info"]["model_id"]
    path = f"/logged-models/{model_id}"
    assert_error(api.patch(path, json={"model_id": model_id}), 400, "INVALID_PARAMETER_VALUE")
    bad = api.patch(path, json={"model_id": model_id, "status": "DONE"})
    assert_error(bad, 400, "INVALID_PARAMETER_VALUE", "status")
    gone = api.patch(f"/logged-models/{MISSING}", json={"status": "LOGGED_MODEL_READY"})
    assert_error(gone, 404, "RESOURCE_DOES_NOT_EXIST", MISSING)
    assert get(api, model_id).json()["model"]["info"]["status"] == "LOGGED_MODEL_PENDING"


def test_delete_hides_the_model(api: httpx.Client, experiment_id: str) -> None:
    model_id = create(api, experiment_id, name="doomed")["info"]["model_id"]
    answer = api.request("DELETE", f"/logged-models/{model_id}", json={"model_id": model_id})
    assert answer.status_code == 200 and answer.json() == {}
    assert_error(
        get(api, model_id),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"Logged model with ID '{model_id}' not found.",
    )
    assert get(api, model_id, allow_deleted="true").json()["model"]["info"]["name"] == "doomed"
    assert get(api, model_id, allow_deleted="TRUE").status_code == 200
    assert_error(get(api, model_id, allow_deleted="yes"), 400, "INVALID_PARAMETER_VALUE")
    assert count_models(api, experiment_id) == 0


def test_unknown_models_are_404(api: httpx.Client) -> None:
    for path in (f"/logged-models/{MISSING}", "/logged-models/not-an-id"):
        assert_error(api.get(path), 404, "RESOURCE_DOES_NOT_EXIST", "not found")
    assert_error(api.delete(f"/logged-models/{MISSING}"), 404, "RESOURCE_DOES_NOT_EXIST")
    tags = api.patch(f"/logged-models/{MISSING}/tags", json={"tags": [{"key": "a", "value": "b"}]})
    assert_error(tags, 404, "RESOURCE_DOES_NOT_EXIST")
    params = api.post(f"/logged-models/{MISSING}/params", json={"params": []})
    assert_error(params, 404, "RESOURCE_DOES_NOT_EXIST")
    listing = api.get(f"/logged-models/{MISSING}/artifacts/directories")
    assert_error(listing, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "a/b"}, ("name",)),
        ({"name": "v1.0"}, ("name",)),
        ({"name": ""}, ("name",)),
        ({"name": "x\x00y"}, ("NUL",)),
        ({"tags": [{"key": "bad*key", "value": "v"}]}, ("tag key",)),
        ({"params": [{"key": "p", "value": "x" * 16385}]}, ("16384",)),
        ({"params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]}, ("Duplicate",)),
        ({"tags": "not a list"}, ("tags",)),
        ({"source_run_id": "f" * 32}, ()),
    ],
)
def test_create_bad_input_changes_nothing(
    api: httpx.Client, experiment_id: str, body: dict, words: tuple
) -> None:
    answer = api.post("/logged-models", json={"experiment_id": experiment_id, **body})
    assert 400 <= answer.status_code < 500, answer.text
    assert_error(answer, answer.status_code, answer.json()["error_code"], *words)
    assert count_models(api, experiment_id) == 0


def test_create_in_unknown_or_missing_experiment(api: httpx.Client) -> None:
    assert_error(
        api.post("/logged-models", json={}), 400, "INVALID_PARAMETER_VALUE", "experiment_id"
    )
    answer = api.post("/logged-models", json={"experiment_id": "98765"})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")
    answer = api.post("/logged-models", json={"experiment_id": "abc"})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_tags_and_params_routes(api: httpx.Client, experiment_id: str) -> None:
    model_id = create(api, experiment_id)["info"]["model_id"]
    answer = api.patch(
        f"/logged-models/{model_id}/tags",
        json={"tags": [{"key": "stage", "value": "dev"}, {"key": "a/b", "value": "x"}]},
    )
    assert answer.status_code == 200 and answer.json() == {}
    assert api.delete(f"/logged-models/{model_id}/tags/a/b").json() == {}
    assert_error(api.delete(f"/logged-models/{model_id}/tags/a/b"), 404, "RESOURCE_DOES_NOT_EXIST")
    answer = api.post(
        f"/logged-models/{model_id}/params",
        json={"model_id": model_id, "params": [{"key": "lr", "value": "0.1"}]},
    )
    assert answer.json() == {}
    model = get(api, model_id).json()["model"]
    assert model["info"]["tags"] == [{"key": "stage", "value": "dev"}]
    assert model["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    changed = api.post(
        f"/logged-models/{model_id}/params", json={"params": [{"key": "lr", "value": "0.2"}]}
    )
    assert_error(changed, 400, "INVALID_PARAMETER_VALUE", "Changing param values")


def test_search_wire_format(api: httpx.Client, experiment_id: str) -> None:
    for name, acc in (("low", 0.1), ("high", 0.9)):
        model = create(api, experiment_id, name=name)
        run = api.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"]
        metric = {"key": "acc", "value": acc, "timestamp": 1, "step": 0}
        metric["model_id"] = model["info"]["model_id"]
        api.post("/runs/log-batch", json={"run_id": run["info"]["run_id"], "metrics": [metric]})
    newest_first = search(api, experiment_ids=[experiment_id])
    assert [m["info"]["name"] for m in newest_first["models"]] == ["high", "low"]
    assert "next_page_token" not in newest_first
    ordered = search(
        api,
        experiment_ids=[experiment_id],
        order_by=[{"field_name": "metrics.acc", "ascending": True}],
    )
    assert [m["info"]["name"] for m in ordered["models"]] == ["low", "high"]
    found = search(api, experiment_ids=[experiment_id], filter="metrics.acc > 0.5")
    assert [m["info"]["name"] for m in found["models"]] == ["high"]
    assert found["models"][0]["data"]["metrics"][0]["value"] == 0.9
    page = search(api, experiment_ids=[experiment_id], max_results=1)
    rest = search(
        api, experiment_ids=[experiment_id], max_results=1, page_token=page["next_page_token"]
    )
    assert [m["info"]["name"] for m in rest["models"]] == ["low"]
    assert search(api, experiment_ids=[experiment_id], filter="name = 'none'") == {}


def test_search_returns_50_by_default(live_server, api: httpx.Client, experiment_id: str) -> None:
    for _ in range(52):
        live_server.store.create_logged_model(experiment_id)
    page = search(api, experiment_ids=[experiment_id])
    assert len(page["models"]) == 50 and page["next_page_token"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, ("experiment_ids",)),
        ({"filter": "metrics.acc > 'x'"}, 400, ("number",)),
        ({"filter": "name ="}, 400, ("value",)),
        ({"order_by": ["name"]}, 400, ("order_by",)),
        ({"order_by": [{"field_name": "tags.x"}]}, 400, ("order_by",)),
        ({"max_results": -1}, 400, ("max_results",)),
        ({"page_token": "nope"}, 400, ("page token",)),
        ({"datasets": [{"dataset_digest": "d"}]}, 400, ("dataset_name",)),
    ],
)
def test_bad_searches(
    api: httpx.Client, experiment_id: str, body: dict, status: int, words: tuple
) -> None:
    payload = {"experiment_ids": [experiment_id], **body} if body else {}
    answer = api.post("/logged-models/search", json=payload)
    assert_error(answer, status, "INVALID_PARAMETER_VALUE", *words)


def test_run_outputs_and_inputs_show_in_the_run(
    api: httpx.Client, experiment_id: str, run_id: str
) -> None:
    made = create(api, experiment_id, source_run_id=run_id)["info"]["model_id"]
    used = create(api, experiment_id)["info"]["model_id"]
    answer = api.post("/runs/outputs", json={"run_id": run_id, "models": [{"model_id": made}]})
    assert answer.status_code == 200 and answer.json() == {}
    api.post("/runs/log-inputs", json={"run_id": run_id, "models": [{"model_id": used}]})
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": made, "step": 0}]}
    assert run["inputs"] == {"model_inputs": [{"model_id": used}]}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"models": [{"model_id": MISSING}]}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{}]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{"model_id": "x", "step": "later"}]}, 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_bad_run_outputs(
    api: httpx.Client, run_id: str, body: dict, status: int, code: str
) -> None:
    assert_error(api.post("/runs/outputs", json={"run_id": run_id, **body}), status, code)
    assert api.get("/runs/get", params={"run_id": run_id}).json()["run"]["outputs"] == {}


def test_run_outputs_need_a_known_run(api: httpx.Client, experiment_id: str) -> None:
    model_id = create(api, experiment_id)["info"]["model_id"]
    models = [{"model_id": model_id}]
    assert_error(api.post("/runs/outputs", json={"models": models}), 400, "INVALID_PARAMETER_VALUE")
    answer = api.post("/runs/outputs", json={"run_id": "f" * 32, "models": models})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")


def test_metrics_logged_with_model_id(api: httpx.Client, experiment_id: str, run_id: str) -> None:
    model_id = create(api, experiment_id)["info"]["model_id"]
    metric = {"key": "auc", "value": "NaN", "timestamp": 5, "step": 2, "model_id": model_id}
    assert api.post("/runs/log-metric", json={"run_id": run_id, **metric}).status_code == 200
    metrics = get(api, model_id).json()["model"]["data"]["metrics"]
    assert metrics == [
        {
            "key": "auc",
            "value": "NaN",
            "timestamp": 5,
            "step": 2,
            "model_id": model_id,
            "run_id": run_id,
        }
    ]
    unknown = {**metric, "model_id": MISSING}
    answer = api.post("/runs/log-batch", json={"run_id": run_id, "metrics": [unknown]})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST", MISSING)


def test_model_files_through_the_proxy(live_server, api: httpx.Client, experiment_id: str) -> None:
    model = create(api, experiment_id)["info"]
    proxied = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
    with httpx.Client(base_url=live_server.url) as root:
        for rel, content in (("MLmodel", b"flavors: {}\n"), ("data/model.pkl", b"\x80\x04")):
            url = f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/{rel}"
            assert root.put(url, content=content).status_code == 200
    path = f"/logged-models/{model['model_id']}/artifacts"
    top = api.get(f"{path}/directories").json()
    assert top["root_uri"] == model["artifact_uri"]
    assert top["files"] == [
        {"path": "MLmodel", "is_dir": False, "file_size": 12},
        {"path": "data", "is_dir": True},
    ]
    sub = api.get(f"{path}/directories", params={"artifact_directory_path": "data"}).json()
    assert [f["path"] for f in sub["files"]] == ["data/model.pkl"]
    file = api.get(f"{path}/files", params={"artifact_file_path": "MLmodel"})
    assert file.status_code == 200 and file.content == b"flavors: {}\n"
    assert_error(api.get(f"{path}/files"), 400, "BAD_REQUEST")
    traversal = api.get(f"{path}/files", params={"artifact_file_path": "../../x"})
    assert_error(traversal, 400, "INVALID_PARAMETER_VALUE")
    escape = api.get(f"{path}/directories", params={"artifact_directory_path": "../.."})
    assert_error(escape, 400, "INVALID_PARAMETER_VALUE")


def test_wrong_methods_are_405(api: httpx.Client) -> None:
    assert api.get("/logged-models").status_code == 405
    assert api.put(f"/logged-models/{MISSING}", json={}).status_code == 405
    assert api.get("/runs/outputs").status_code == 405


def test_openapi_documents_the_routes(live_server) -> None:
    paths = httpx.get(live_server.url + "/openapi.json").json()["paths"]
    prefix = "/api/2.0/mlflow"
    for path, method in (
        ("/logged-models", "post"),
        ("/logged-models/search", "post"),
        ("/logged-models/{model_id}", "get"),
        ("/logged-models/{model_id}", "patch"),
        ("/logged-models/{model_id}", "delete"),
        ("/logged-models/{model_id}/tags", "patch"),
        ("/logged-models/{model_id}/params", "post"),
        ("/logged-models/{model_id}/artifacts/directories", "get"),
        ("/runs/outputs", "post"),
    ):
        assert method in paths[prefix + path], path
    create_body = paths[prefix + "/logged-models"]["post"]["requestBody"]
    schema = create_body["content"]["application/json"]["schema"]
    assert schema["required"] == ["experiment_id"]
