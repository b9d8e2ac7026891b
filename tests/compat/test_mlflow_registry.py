"""The model registry with the real ``mlflow`` client against a live mltrail server: every
registry endpoint through ``MlflowClient``, ``log_model(..., registered_model_name=...)``,
loading by ``models:/<name>/<version>``, ``@<alias>``, ``/latest`` and ``/<stage>``, and the
error codes the client reacts to."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402

X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
Y = np.array([0, 0, 0, 1, 1, 1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _run_with_file(client: MlflowClient, tmp_path) -> str:
    """A run with a file under ``model/`` (a source a version can point at)."""
    run = client.create_run("0")
    (tmp_path / "weights.txt").write_text("w")
    client.log_artifact(run.info.run_id, str(tmp_path / "weights.txt"), "model")
    return run.info.run_id


def _error_code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return exc.value.error_code


def test_registered_model_endpoints(mlflow_client: MlflowClient) -> None:
    name = unique("rm")
    made = mlflow_client.create_registered_model(name, tags={"team": "ml"}, description="d1")
    assert made.name == name and made.description == "d1"
    got = mlflow_client.get_registered_model(name)
    assert got.tags == {"team": "ml"} and got.latest_versions == []
    with pytest.raises(MlflowException) as dup:
        mlflow_client.create_registered_model(name)
    assert _error_code(dup) == "RESOURCE_ALREADY_EXISTS"
    assert "already exists" in str(dup.value)

    assert mlflow_client.update_registered_model(name, description="d2").description == "d2"
    mlflow_client.set_registered_model_tag(name, "stage", "beta")
    assert mlflow_client.get_registered_model(name).tags == {"team": "ml", "stage": "beta"}
    mlflow_client.delete_registered_model_tag(name, "stage")
    assert mlflow_client.get_registered_model(name).tags == {"team": "ml"}

    renamed = unique("renamed")
    mlflow_client.rename_registered_model(name, renamed)
    assert mlflow_client.get_registered_model(renamed).tags == {"team": "ml"}
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_registered_model(name)
    assert _error_code(gone) == "RESOURCE_DOES_NOT_EXIST"

    found = mlflow_client.search_registered_models(filter_string=f"name = '{renamed}'")
    assert [m.name for m in found] == [renamed]
    mlflow_client.delete_registered_model(renamed)
    assert list(mlflow_client.search_registered_models(f"name = '{renamed}'")) == []


def test_search_registered_models_filters_order_and_pages(mlflow_client: MlflowClient) -> None:
    prefix = unique("srch")
    for suffix in ("a", "b", "c"):
        mlflow_client.create_registered_model(f"{prefix}-{suffix}", tags={"k": suffix})
    like = f"name LIKE '{prefix}-%'"
    names = [m.name for m in mlflow_client.search_registered_models(like, order_by=["name DESC"])]
    assert names == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    ilike = f"name ILIKE '{prefix.upper()}-%' AND tags.k = 'b'"
    assert [m.name for m in mlflow_client.search_registered_models(ilike)] == [f"{prefix}-b"]
    first = mlflow_client.search_registered_models(like, max_results=2)
    assert len(first) == 2 and first.token
    rest = mlflow_client.search_registered_models(like, max_results=2, page_token=first.token)
    assert [m.name for m in rest] == [f"{prefix}-c"]
    # The fluent function pages through everything.
    assert len(mlflow.search_registered_models(filter_string=like)) == 3


def test_model_version_endpoints(mlflow_client: MlflowClient, tmp_path) -> None:
    name = unique("mv")
    mlflow_client.create_registered_model(name)
    run_id = _run_with_file(mlflow_client, tmp_path)
    v1 = mlflow_client.create_model_version(
        name, f"runs:/{run_id}/model", run_id, tags={"t": "1"}, description="first"
    )
    assert (v1.version, v1.status, v1.current_stage) == ("1", "READY", "None")
    assert v1.run_id == run_id and v1.tags == {"t": "1"}
    v2 = mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    assert v2.version == "2"

    got = mlflow_client.get_model_version(name, "1")
    assert got.description == "first" and got.source == f"runs:/{run_id}/model"
    assert mlflow_client.update_model_version(name, "1", description="new").description == "new"
    mlflow_client.set_model_version_tag(name, "1", "k", "v")
    assert mlflow_client.get_model_version(name, "1").tags == {"t": "1", "k": "v"}
    mlflow_client.delete_model_version_tag(name, "1", "k")
    assert mlflow_client.get_model_version(name, "1").tags == {"t": "1"}

    staged = mlflow_client.transition_model_version_stage(name, "2", "staging")
    assert staged.current_stage == "Staging"
    latest = mlflow_client.get_latest_versions(name, stages=["Staging"])
    assert [v.version for v in latest] == ["2"]

    uri = mlflow_client.get_model_version_download_uri(name, "1")
    assert uri.endswith(f"{run_id}/artifacts/model")
    local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp_path / "dl"))
    assert Path(local, "weights.txt").read_text() == "w"

    found = mlflow_client.search_model_versions(f"name = '{name}' AND run_id = '{run_id}'")
    assert sorted(v.version for v in found) == ["1", "2"]
    found = mlflow_client.search_model_versions(
        f"name = '{name}'", order_by=["version_number ASC"], max_results=1
    )
    assert [v.version for v in found] == ["1"] and found.token
    assert len(mlflow.search_model_versions(filter_string=f"name = '{name}'")) == 2

    mlflow_client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_model_version(name, "2")
    assert _error_code(gone) == "RESOURCE_DOES_NOT_EXIST"

    copied = mlflow_client.copy_model_version(f"models:/{name}/1", unique("copy"))
    assert copied.version == "1" and copied.run_id == run_id


def test_aliases(mlflow_client: MlflowClient, tmp_path) -> None:
    name = unique("alias")
    mlflow_client.create_registered_model(name)
    run_id = _run_with_file(mlflow_client, tmp_path)
    for _ in range(2):
        mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "1"
    assert mlflow_client.get_registered_model(name).aliases == {"champion": "1"}
    mlflow_client.set_registered_model_alias(name, "champion", 2)
    assert mlflow_client.get_model_version(name, "2").aliases == ["champion"]
    for bad in ("v1", "latest"):
        with pytest.raises(MlflowException) as refused:
            mlflow_client.set_registered_model_alias(name, bad, "1")
        assert _error_code(refused) == "INVALID_PARAMETER_VALUE"
    mlflow_client.delete_registered_model_alias(name, "champion")
    with pytest.raises(MlflowException) as unknown:
        mlflow_client.get_model_version_by_alias(name, "champion")
    assert _error_code(unknown) == "RESOURCE_DOES_NOT_EXIST"


def test_bad_source_is_refused(mlflow_client: MlflowClient) -> None:
    name = unique("src")
    mlflow_client.create_registered_model(name)
    for source in ("file:///etc/", "/proc/self/root", "http:///x#/../../etc"):
        with pytest.raises(MlflowException) as refused:
            mlflow_client.create_model_version(name, source)
        assert _error_code(refused) == "INVALID_PARAMETER_VALUE"
    assert list(mlflow_client.search_model_versions(f"name = '{name}'")) == []


def _fitted() -> Any:
    return LogisticRegression().fit(X, Y)


def test_log_model_with_registered_model_name_and_load_back(
    mlflow_client: MlflowClient, mlflow_tracking: str
) -> None:
    mlflow.set_experiment(unique("reg"))
    name = unique("clf")
    clf = _fitted()
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            clf,
            name="model",
            serialization_format="cloudpickle",
            pip_requirements=["scikit-learn"],
            registered_model_name=name,
        )
    assert str(info.registered_model_version) == "1"
    version = mlflow_client.get_model_version(name, "1")
    assert version.source == f"models:/{info.model_id}"
    # The mlflow client drops model_id when it reads a version; mltrail's client keeps it.
    from mltrail import TrailClient

    assert TrailClient(mlflow_tracking).get_model_version(name, 1).model_id == info.model_id
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    mlflow_client.transition_model_version_stage(name, "1", "Production")

    expected = list(clf.predict(X))
    for uri in (
        f"models:/{name}/1",
        f"models:/{name}@champion",
        f"models:/{name}/latest",
        f"models:/{name}/Production",
    ):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(X)) == expected, uri

    # register_model from the run registers the same logged model again.
    again = mlflow.register_model(f"models:/{info.model_id}", name)
    assert again.version == "2"


def test_webhooks_through_the_mlflow_client(mlflow_client: MlflowClient) -> None:
    # A public address literal: saved without a DNS lookup (delivery is tested elsewhere
    # against a local receiver the operator allowed).
    hook = mlflow_client.create_webhook(
        name=unique("hook"),
        url="https://93.184.215.14/hook",
        events=["model_version.created", "model_version_alias.created"],
        secret="s",
        description="ci",
    )
    assert hook.status.value == "ACTIVE" and hook.description == "ci"
    assert {(e.entity.value, e.action.value) for e in hook.events} == {
        ("model_version", "created"),
        ("model_version_alias", "created"),
    }
    assert mlflow_client.get_webhook(hook.webhook_id).name == hook.name
    assert hook.webhook_id in [h.webhook_id for h in mlflow_client.list_webhooks()]
    updated = mlflow_client.update_webhook(hook.webhook_id, status="DISABLED")
    assert updated.status.value == "DISABLED"
    with pytest.raises(MlflowException) as refused:
        mlflow_client.create_webhook(
            name=unique("bad"), url="http://169.254.169.254/", events=["model_version.created"]
        )
    assert _error_code(refused) == "INVALID_PARAMETER_VALUE"
    mlflow_client.delete_webhook(hook.webhook_id)
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_webhook(hook.webhook_id)
    assert _error_code(gone) == "RESOURCE_DOES_NOT_EXIST"
