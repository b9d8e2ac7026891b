"""What MLflow code imports and what the ``mlflow`` client asks a server, checked against the
real ``mlflow`` package; and the long-value limit through every path."""

from __future__ import annotations

import httpx
import pytest
from diff_harness import Impl

import mltrail
from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.utils import mlflow_tags
from mltrail.version import MLFLOW_API_VERSION, __version__

# Names MLflow code commonly imports from mlflow.utils.mlflow_tags.
IMPORTED_TAG_NAMES = [
    "MLFLOW_RUN_NAME", "MLFLOW_RUN_NOTE", "MLFLOW_PARENT_RUN_ID", "MLFLOW_USER",
    "MLFLOW_SOURCE_TYPE", "MLFLOW_SOURCE_NAME", "MLFLOW_GIT_COMMIT", "MLFLOW_GIT_BRANCH",
    "MLFLOW_GIT_REPO_URL", "MLFLOW_LOGGED_MODELS", "MLFLOW_AUTOLOGGING", "MLFLOW_DATASET_CONTEXT",
    "MLFLOW_PROJECT_ENV", "MLFLOW_PROJECT_ENTRY_POINT", "MLFLOW_PROJECT_BACKEND",
    "MLFLOW_DOCKER_IMAGE_URI", "MLFLOW_DOCKER_IMAGE_ID", "MLFLOW_RUN_SOURCE_TYPE",
    "MLFLOW_MODEL_VERSIONS", "MLFLOW_LOGGED_ARTIFACTS", "MLFLOW_LOGGED_IMAGES",
]  # fmt: skip


def test_mlflow_tags_names_and_values_are_mlflows() -> None:
    import mlflow.utils.mlflow_tags as theirs

    ours = {name: getattr(mlflow_tags, name) for name in dir(mlflow_tags) if name.isupper()}
    assert set(IMPORTED_TAG_NAMES) <= set(ours)
    for name, value in ours.items():
        assert getattr(theirs, name) == value, name


def test_mlflow_client_sees_the_mlflow_api_version(server_impl: Impl) -> None:
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds
    from packaging.version import Version

    version = RestStore._get_server_version(MlflowHostCreds(server_impl.tracking_uri))
    assert version == Version(MLFLOW_API_VERSION)
    assert version >= Version("3.4")  # the client's gate for span logging and others
    answer = httpx.get(server_impl.tracking_uri + "/api/3.0/mlflow/server-info")
    assert answer.json()["mltrail_version"] == __version__
    assert answer.headers["x-mltrail-version"] == __version__


@pytest.mark.parametrize("where", ["in_process", "server"])
def test_long_values_stored_whole_up_to_the_limit(
    where: str, mltrail_impl: Impl, server_impl: Impl
) -> None:
    uri = mltrail_impl.tracking_uri if where == "in_process" else server_impl.tracking_uri
    client = mltrail.MlflowClient(uri)
    exp = client.create_experiment(f"long-values-{where}")
    run_id = client.create_run(exp).info.run_id
    client.log_param(run_id, "p", "p" * 16384)
    client.set_tag(run_id, "t", "t" * 16384)
    client.log_batch(
        run_id,
        params=[mltrail.entities.Param(f"q{i}", "q" * 16384) for i in range(100)],
        tags=[mltrail.entities.RunTag(f"u{i}", "u" * 16384) for i in range(100)],
    )
    with pytest.raises(InvalidParameter, match="16384"):
        client.log_param(run_id, "long", "x" * 16385)
    with pytest.raises(MltrailException, match="16384") as refused:
        client.set_tag(run_id, "long", "x" * 16385)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    data = client.get_run(run_id).data
    assert len(data.params["p"]) == 16384 and len(data.tags["t"]) == 16384
    assert all(len(data.params[f"q{i}"]) == 16384 for i in range(100))
    assert all(len(data.tags[f"u{i}"]) == 16384 for i in range(100))
    assert "long" not in data.params and "long" not in data.tags
