"""MLflow's own auth client (``mlflow.server.get_app_client("basic-auth", ...)``, needing
Flask-WTF beside mlflow-skinny) against a real ``mltrail server --auth`` process: users,
passwords, admin rights and per-resource grants, with their effect on the real tracking
client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_process import mltrail_server

pytest.importorskip("flask_wtf", reason="mlflow's auth client needs Flask-WTF ([dev] extra)")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402

ADMIN = ("root", "an admin passphrase 9")
CAROL = ("carol", "winter-orchard-71")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("auth-client")
    env = {"MLTRAIL_AUTH_ADMIN_USERNAME": ADMIN[0], "MLTRAIL_AUTH_ADMIN_PASSWORD": ADMIN[1]}
    with mltrail_server(
        folder, "--auth", "--auth-default-permission", "NO_PERMISSIONS", env=env
    ) as url:
        yield url


def _as(monkeypatch: pytest.MonkeyPatch, who: tuple[str, str]) -> None:
    """The mlflow client reads its credentials from the environment on every request."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", who[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", who[1])


def test_users_and_grants_through_mlflows_auth_client(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.server

    auth = mlflow.server.get_app_client("basic-auth", tracking_uri=server_url)
    tracking = MlflowClient(tracking_uri=server_url)
    _as(monkeypatch, ADMIN)

    user = auth.create_user(*CAROL)
    assert (user.username, user.is_admin) == (CAROL[0], False)
    assert auth.get_user(CAROL[0]).username == CAROL[0]
    with pytest.raises(RestException) as taken:
        auth.create_user(CAROL[0], "another-passphrase-9")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"

    exp_id = tracking.create_experiment(f"shared-{uuid.uuid4().hex[:8]}")
    _as(monkeypatch, CAROL)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        tracking.create_run(exp_id)

    _as(monkeypatch, ADMIN)
    auth.grant_user_permission(CAROL[0], "experiment", exp_id, "EDIT")
    granted = auth.get_user_permission(CAROL[0], "experiment", exp_id)
    assert granted.permission == "EDIT" and granted.allowed

    _as(monkeypatch, CAROL)
    run = tracking.create_run(exp_id)
    tracking.log_metric(run.info.run_id, "loss", 0.5)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        tracking.delete_experiment(exp_id)  # EDIT is not MANAGE
    with pytest.raises(RestException) as not_admin:
        auth.create_user("mallory", "velvet-canyon-88")
    assert not_admin.value.error_code == "PERMISSION_DENIED"

    _as(monkeypatch, ADMIN)
    auth.revoke_user_permission(CAROL[0], "experiment", exp_id)
    _as(monkeypatch, CAROL)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        tracking.log_metric(run.info.run_id, "loss", 0.4)

    _as(monkeypatch, ADMIN)
    tracking_models = MlflowClient(tracking_uri=server_url, registry_uri=server_url)
    tracking_models.create_registered_model("churn-model")
    auth.grant_user_permission(CAROL[0], "registered_model", "churn-model", "READ")
    assert auth.get_user_permission(CAROL[0], "registered_model", "churn-model").permission == (
        "READ"
    )
    _as(monkeypatch, CAROL)
    assert tracking_models.get_registered_model("churn-model").name == "churn-model"
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        tracking_models.update_registered_model("churn-model", description="mine now")


def test_passwords_admin_rights_and_deletion(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.server

    auth = mlflow.server.get_app_client("basic-auth", tracking_uri=server_url)
    dave = ("dave", "quiet-harbour-lamp-1")
    _as(monkeypatch, ADMIN)
    auth.create_user(*dave)

    _as(monkeypatch, dave)
    auth.update_user_password(dave[0], "brisk-meadow-kite-2")  # one's own: allowed
    with pytest.raises(RestException) as unauthenticated:
        auth.get_user(dave[0])  # the old password no longer works
    assert unauthenticated.value.error_code == "UNAUTHENTICATED"
    dave = (dave[0], "brisk-meadow-kite-2")
    _as(monkeypatch, dave)
    assert auth.get_user(dave[0]).is_admin is False
    with pytest.raises(RestException) as no_raise:
        auth.update_user_admin(dave[0], True)  # nobody raises their own rights
    assert no_raise.value.error_code == "PERMISSION_DENIED"

    _as(monkeypatch, ADMIN)
    auth.update_user_admin(dave[0], True)
    assert auth.get_user(dave[0]).is_admin is True
    auth.delete_user(dave[0])
    with pytest.raises(RestException) as gone:
        auth.get_user(dave[0])
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
