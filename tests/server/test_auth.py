"""``--auth``: no default password, HTTP basic and bearer tokens (as the mlflow client sends
them), permissions per experiment (READ / EDIT / MANAGE / NO_PERMISSIONS) on every route
family, MLflow's basic-auth REST API, fail-closed routing, the audit log."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, assert_error, make_settings, serve

from mltrail.exceptions import MltrailException
from mltrail.server.app import create_app

ADMIN = ("root", "correct horse battery")
ALICE = ("alice", "s3cret-passphrase-A1")
BOB = ("bob", "different-passphrase-B2")


def auth_settings(tmp: Path, **overrides: object):  # type: ignore[no-untyped-def]
    return make_settings(f"sqlite:///{tmp / 'db.sqlite'}", tmp, auth=True, **overrides)


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_PASSWORD", ADMIN[1])


def client(server: LiveServer, who: tuple[str, str] | None) -> httpx.Client:
    return httpx.Client(base_url=server.api, auth=who, timeout=30)


def make_user(server: LiveServer, who: tuple[str, str]) -> None:
    with client(server, ADMIN) as admin:
        answer = admin.post("/users/create", json={"username": who[0], "password": who[1]})
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("auth")
    os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"] = ADMIN
    try:
        with serve(auth_settings(folder), lifespan="on") as live:
            make_user(live, ALICE)
            make_user(live, BOB)
            yield live
    finally:
        del os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"]


@pytest.fixture
def admin_exp(server: LiveServer) -> tuple[str, str]:
    """An experiment of the admin's with one run: (experiment id, run id)."""
    with client(server, ADMIN) as admin:
        exp = admin.post("/experiments/create", json={"name": f"a-{uuid.uuid4().hex[:8]}"})
        exp_id = exp.json()["experiment_id"]
        run = admin.post("/runs/create", json={"experiment_id": exp_id}).json()["run"]["info"]
    return exp_id, run["run_id"]


# -- first start -------------------------------------------------------------------------------


def test_no_user_and_no_admin_variables_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(MltrailException, match="mltrail users create-admin"):
        create_app(auth_settings(tmp_path))


@pytest.mark.parametrize("password", ["", "short", "aaaaaaaaaaaaaaaa", "password1234"])
def test_weak_admin_passwords_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_USERNAME", "admin")
    monkeypatch.setenv("MLTRAIL_AUTH_ADMIN_PASSWORD", password)
    with pytest.raises(MltrailException, match="MLTRAIL_AUTH_ADMIN_PASSWORD"):
        create_app(auth_settings(tmp_path))


def test_create_admin_from_the_cli_then_start(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    done = subprocess.run(
        [sys.executable, "-m", "mltrail", "users", "create-admin", "boss",
         "--password", "a-long-admin-passphrase", "--backend-store-uri", db],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with serve(auth_settings(tmp_path)) as live:
        answer = httpx.get(live.api + "/experiments/get", params={"experiment_id": "0"})
        assert answer.status_code == 401
        ok = httpx.get(
            live.api + "/experiments/get",
            params={"experiment_id": "0"},
            auth=("boss", "a-long-admin-passphrase"),
        )
        assert ok.status_code == 200


# -- who -------------------------------------------------------------------------------------------


def test_missing_and_wrong_credentials_are_401(server: LiveServer) -> None:
    bare = httpx.get(server.api + "/experiments/get", params={"experiment_id": "0"})
    assert_error(bare, 401, "UNAUTHENTICATED")
    assert bare.headers["www-authenticate"].startswith("Basic")
    wrong = httpx.get(
        server.api + "/experiments/get", params={"experiment_id": "0"}, auth=(ALICE[0], "nope")
    )
    assert_error(wrong, 401, "UNAUTHENTICATED")
    garbage = httpx.get(server.api + "/runs/get", headers={"Authorization": "Basic !!!"})
    assert_error(garbage, 401, "UNAUTHENTICATED")
    assert httpx.get(server.url + "/health").status_code == 200  # probes stay open


def test_bearer_tokens(server: LiveServer) -> None:
    token = server.app.state.auth.create_token(ALICE[0], "ci")
    answer = httpx.get(server.api + "/users/current", headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["user"]["username"] == ALICE[0]
    bad = httpx.get(server.api + "/users/current", headers={"Authorization": "Bearer mlt_x"})
    assert_error(bad, 401, "UNAUTHENTICATED")


# -- may they --------------------------------------------------------------------------------------


def test_default_read_lets_others_read_but_not_write(
    server: LiveServer, admin_exp: tuple[str, str]
) -> None:
    exp_id, run_id = admin_exp
    with client(server, ALICE) as alice:
        assert alice.get("/experiments/get", params={"experiment_id": exp_id}).status_code == 200
        assert alice.get("/runs/get", params={"run_id": run_id}).status_code == 200
        batch = {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]}
        assert_error(alice.post("/runs/log-batch", json=batch), 403, "PERMISSION_DENIED", "EDIT")
        assert_error(
            alice.post("/runs/create", json={"experiment_id": exp_id}), 403, "PERMISSION_DENIED"
        )
        assert_error(
            alice.post("/experiments/delete", json={"experiment_id": exp_id}),
            403,
            "PERMISSION_DENIED",
            "MANAGE",
        )
        bad_model = alice.post("/logged-models", json={"experiment_id": exp_id})
        assert_error(bad_model, 403, "PERMISSION_DENIED")
    with client(server, ADMIN) as admin:
        run = admin.get("/runs/get", params={"run_id": run_id}).json()["run"]
        assert "metrics" not in run["data"]  # nothing of the refused batch landed
        assert (
            admin.get("/experiments/get", params={"experiment_id": exp_id}).json()["experiment"][
                "lifecycle_stage"
            ]
            == "active"
        )


def test_creators_manage_what_they_create_and_grants_work(server: LiveServer) -> None:
    with client(server, ALICE) as alice, client(server, BOB) as bob:
        exp_id = alice.post("/experiments/create", json={"name": uuid.uuid4().hex}).json()[
            "experiment_id"
        ]
        run_id = alice.post("/runs/create", json={"experiment_id": exp_id}).json()["run"]["info"][
            "run_id"
        ]
        batch = {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]}
        assert alice.post("/runs/log-batch", json=batch).status_code == 200
        assert_error(bob.post("/runs/log-batch", json=batch), 403, "PERMISSION_DENIED")
        # Bob cannot give himself rights; Alice (MANAGE) can.
        grant = {"experiment_id": exp_id, "username": BOB[0], "permission": "EDIT"}
        assert_error(
            bob.post("/experiments/permissions/create", json=grant), 403, "PERMISSION_DENIED"
        )
        made = alice.post("/experiments/permissions/create", json=grant)
        assert made.status_code == 200, made.text
        assert made.json()["experiment_permission"]["permission"] == "EDIT"
        assert bob.post("/runs/log-batch", json=batch).status_code == 200
        assert_error(
            bob.post("/experiments/delete", json={"experiment_id": exp_id}),
            403,
            "PERMISSION_DENIED",
        )
        got = alice.get(
            "/experiments/permissions/get", params={"experiment_id": exp_id, "username": BOB[0]}
        )
        assert got.json()["experiment_permission"]["permission"] == "EDIT"
        # Taking it back: NO_PERMISSIONS beats the server's default READ.
        downgrade = {"experiment_id": exp_id, "username": BOB[0], "permission": "NO_PERMISSIONS"}
        assert alice.patch("/experiments/permissions/update", json=downgrade).status_code == 200
        assert_error(
            bob.get("/experiments/get", params={"experiment_id": exp_id}), 403, "PERMISSION_DENIED"
        )
        listed = bob.post("/experiments/search", json={"max_results": 1000}).json()
        assert exp_id not in {e["experiment_id"] for e in listed.get("experiments", [])}
        assert_error(
            bob.post("/runs/search", json={"experiment_ids": [exp_id]}), 403, "PERMISSION_DENIED"
        )
        gone = {"experiment_id": exp_id, "username": BOB[0]}
        assert (
            alice.request("DELETE", "/experiments/permissions/delete", json=gone).status_code == 200
        )
        assert bob.get("/experiments/get", params={"experiment_id": exp_id}).status_code == 200
        # Alice may delete her experiment.
        assert alice.post("/experiments/delete", json={"experiment_id": exp_id}).status_code == 200


def test_artifact_proxy_follows_the_experiment(
    server: LiveServer, admin_exp: tuple[str, str]
) -> None:
    exp_id, run_id = admin_exp
    url = server.url + f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run_id}/artifacts/a.txt"
    assert httpx.put(url, content=b"data", auth=ADMIN).status_code == 200
    assert httpx.get(url, auth=ALICE).content == b"data"
    assert_error(httpx.put(url, content=b"evil", auth=ALICE), 403, "PERMISSION_DENIED")
    assert_error(httpx.delete(url, auth=ALICE), 403, "PERMISSION_DENIED")
    assert httpx.get(url, auth=ADMIN).content == b"data"
    listing = server.url + "/api/2.0/mlflow-artifacts/artifacts"
    assert httpx.get(listing, params={"path": f"{exp_id}/{run_id}"}, auth=ALICE).status_code == 200
    assert_error(httpx.get(listing, auth=ALICE), 403, "PERMISSION_DENIED")  # the whole store
    assert_error(httpx.get(url), 401, "UNAUTHENTICATED")


def test_users_api_rules(server: LiveServer) -> None:
    with client(server, BOB) as bob, client(server, ADMIN) as admin:
        carol = {"username": f"carol{uuid.uuid4().hex[:6]}", "password": "carol-long-password"}
        assert_error(bob.post("/users/create", json=carol), 403, "PERMISSION_DENIED")
        assert admin.post("/users/create", json=carol).status_code == 200
        assert_error(admin.post("/users/create", json=carol), 400, "RESOURCE_ALREADY_EXISTS")
        weak = {"username": "dave", "password": "short"}
        assert_error(admin.post("/users/create", json=weak), 400, "INVALID_PARAMETER_VALUE")
        # Bob may read and change only himself.
        assert (
            bob.get("/users/get", params={"username": BOB[0]}).json()["user"]["is_admin"] is False
        )
        assert_error(bob.get("/users/get", params={"username": ALICE[0]}), 403, "PERMISSION_DENIED")
        other = {"username": ALICE[0], "password": "bob-sets-alice-pass"}
        assert_error(bob.patch("/users/update-password", json=other), 403, "PERMISSION_DENIED")
        promote = {"username": BOB[0], "is_admin": True}
        assert_error(bob.patch("/users/update-admin", json=promote), 403, "PERMISSION_DENIED")
        assert_error(
            bob.request("DELETE", "/users/delete", json={"username": carol["username"]}),
            403,
            "PERMISSION_DENIED",
        )
        # Carol changes her own password; the old one stops working at once.
        with client(server, (carol["username"], carol["password"])) as c:
            change = {"username": carol["username"], "password": "carol-new-long-password"}
            assert c.patch("/users/update-password", json=change).status_code == 200
        old = httpx.get(server.api + "/users/current", auth=(carol["username"], carol["password"]))
        assert old.status_code == 401
        new = httpx.get(
            server.api + "/users/current", auth=(carol["username"], "carol-new-long-password")
        )
        assert new.status_code == 200
        deleted = admin.request("DELETE", "/users/delete", json={"username": carol["username"]})
        assert deleted.status_code == 200


def test_no_permissions_by_default(tmp_path: Path, admin_env: None) -> None:
    settings = auth_settings(tmp_path, auth_default_permission="NO_PERMISSIONS")
    with serve(settings) as live:
        make_user(live, ALICE)
        with client(live, ADMIN) as admin, client(live, ALICE) as alice:
            exp_id = admin.post("/experiments/create", json={"name": "secret"}).json()[
                "experiment_id"
            ]
            assert_error(
                alice.get("/experiments/get", params={"experiment_id": exp_id}),
                403,
                "PERMISSION_DENIED",
            )
            names = {e["name"] for e in alice.post("/experiments/search", json={}).json().get(
                "experiments", []
            )}  # fmt: skip
            assert "secret" not in names
            page = httpx.get(live.url + "/", auth=ALICE, headers={"Accept": "text/html"})
            assert page.status_code == 403
            assert httpx.get(live.url + "/", auth=ADMIN).status_code == 200
            mine = alice.post("/experiments/create", json={"name": "mine"}).json()
            assert alice.get("/experiments/get", params=mine).status_code == 200


def test_registry_searches_list_only_readable_models(tmp_path: Path, admin_env: None) -> None:
    settings = auth_settings(tmp_path, auth_default_permission="NO_PERMISSIONS")
    with serve(settings) as live:
        make_user(live, ALICE)
        with client(live, ADMIN) as admin, client(live, ALICE) as alice:
            exp = admin.post("/experiments/create", json={"name": "m"}).json()["experiment_id"]
            run = admin.post("/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
            for name in ("secret-model", "shared-model"):
                admin.post("/registered-models/create", json={"name": name})
                made = admin.post(
                    "/model-versions/create",
                    json={"name": name, "source": f"runs:/{run['run_id']}/model",
                          "run_id": run["run_id"]},  # fmt: skip
                )
                assert made.status_code == 200, made.text
            admin.post(
                "/registered-models/permissions/create",
                json={"name": "shared-model", "username": ALICE[0], "permission": "READ"},
            )
            models = alice.get("/registered-models/search").json()["registered_models"]
            assert [m["name"] for m in models] == ["shared-model"]
            versions = alice.get("/model-versions/search").json()["model_versions"]
            assert [v["name"] for v in versions] == ["shared-model"]
            everything = admin.get("/registered-models/search").json()["registered_models"]
            assert len(everything) == 2


def test_every_route_has_a_rule_and_unknown_ones_are_refused(server: LiveServer) -> None:
    from fastapi.routing import iter_route_contexts

    from mltrail.server.auth.rules import rule_for_template, rule_from_route_table

    missing = []
    for route in iter_route_contexts(server.app.routes):
        for method in route.methods or ():
            wanted = "GET" if method == "HEAD" else method
            ruled = rule_for_template(method, route.path) or rule_for_template(wanted, route.path)
            # A route may instead carry a Permission in the shared route table.
            ruled = ruled or rule_from_route_table(wanted, route.path)
            if ruled is None:
                missing.append(f"{method} {route.path}")
    assert missing == []

    async def added(request):  # type: ignore[no-untyped-def]
        return httpx.Response(200)

    app = create_app(server.settings, tracking_store=server.store)
    app.add_api_route("/api/2.0/mlflow/brand-new-route", added, methods=["GET"])
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://localhost") as test_client:
        answer = test_client.get("/api/2.0/mlflow/brand-new-route", auth=ADMIN)
        assert answer.status_code == 403
        assert "No permission rule" in answer.json()["message"]
        unknown = test_client.get("/api/2.0/mlflow/no-such-route", auth=ADMIN)
        assert unknown.status_code == 404  # the mlflow client relies on a bare 404


def test_audit_log_records_writes(server: LiveServer, admin_exp: tuple[str, str]) -> None:
    exp_id, _ = admin_exp
    with client(server, ALICE) as alice:
        alice.post("/experiments/set-experiment-tag", json={"experiment_id": exp_id, "key": "k"})
    entries = server.app.state.auth.audit_entries(20)
    mine = [e for e in entries if e["username"] == ALICE[0]]
    assert any(
        e["path"].endswith("/experiments/set-experiment-tag")
        and e["status"] == 403
        and e["method"] == "POST"
        and e["client"] == "127.0.0.1"
        for e in mine
    )
    httpx.post(server.api + "/experiments/create", json={"name": "anonymous"})
    refused = server.app.state.auth.audit_entries(5)
    assert any(e["username"] is None and e["status"] == 401 for e in refused)


MLFLOW_SCRIPT = textwrap.dedent(
    """
    import mlflow
    mlflow.set_experiment("from-mlflow")
    with mlflow.start_run() as run:
        mlflow.log_params({"lr": 0.1})
        for step in range(20):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
    print(run.info.run_id)
    """
)


@pytest.mark.parametrize("how", ["password", "token"])
def test_the_real_mlflow_client_with_credentials(
    server: LiveServer, tmp_path: Path, how: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env["MLFLOW_TRACKING_URI"] = server.url
    if how == "password":
        env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"] = ALICE
    else:
        env["MLFLOW_TRACKING_TOKEN"] = server.app.state.auth.create_token(ALICE[0])
    script = tmp_path / "train.py"
    script.write_text(MLFLOW_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run_id = done.stdout.strip().splitlines()[-1]
    history = httpx.get(
        server.api + "/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss"},
        auth=ALICE,
    ).json()["metrics"]
    assert len(history) == 20
    # Without credentials the same script fails with the server's 401, not silently.
    del env["MLFLOW_TRACKING_TOKEN" if how == "token" else "MLFLOW_TRACKING_USERNAME"]
    env.pop("MLFLOW_TRACKING_PASSWORD", None)
    refused = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "401" in refused.stderr or "UNAUTHENTICATED" in refused.stderr


def test_fifty_clients_with_auth_on_lose_nothing(server: LiveServer) -> None:
    """The load test of issue 13: 50 concurrent clients, basic auth on every request."""
    import threading

    with client(server, ALICE) as alice:
        exp_id = alice.post("/experiments/create", json={"name": uuid.uuid4().hex}).json()[
            "experiment_id"
        ]
    errors: list[str] = []
    runs: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        with client(server, ALICE) as c:
            run = c.post("/runs/create", json={"experiment_id": exp_id})
            if run.status_code != 200:
                errors.append(run.text)
                return
            run_id = run.json()["run"]["info"]["run_id"]
            with lock:
                runs.append(run_id)
            for batch in range(10):
                metrics = [
                    {"key": "m", "value": i, "timestamp": 1, "step": batch * 100 + i}
                    for i in range(100)
                ]
                answer = c.post("/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
                if answer.status_code != 200:
                    errors.append(answer.text)

    threads = [threading.Thread(target=work) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(runs) == 50
    with client(server, ALICE) as c:
        for run_id in runs:
            history = c.get(
                "/metrics/get-history",
                params={"run_id": run_id, "metric_key": "m", "max_results": 5000},
            ).json()["metrics"]
            assert len(history) == 1000


def test_a_permission_in_the_shared_route_table_is_honoured(
    server: LiveServer, admin_exp: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route added by another part of mltrail with a ``Permission`` in ``mltrail.protocol``
    (and no rule in the auth table) is checked by that permission, not refused."""
    from fastapi.responses import JSONResponse
    from starlette.testclient import TestClient

    import mltrail.protocol as protocol
    from mltrail.protocol.route import Permission, Route

    exp_id, _ = admin_exp
    route = Route(
        "POST", "/experiments/{experiment_id}/touch",
        permission=Permission("experiment", "EDIT", "experiment_id"),
    )  # fmt: skip
    monkeypatch.setattr(protocol, "ROUTES", (*protocol.ROUTES, route))

    async def touch(experiment_id: str) -> JSONResponse:
        return JSONResponse({"touched": experiment_id})

    app = create_app(server.settings, tracking_store=server.store)
    app.add_api_route("/api/2.0/mlflow/experiments/{experiment_id}/touch", touch, methods=["POST"])
    with TestClient(app, base_url="http://localhost") as test_client:
        path = f"/api/2.0/mlflow/experiments/{exp_id}/touch"
        assert test_client.post(path, auth=ADMIN, json={}).json() == {"touched": exp_id}
        refused = test_client.post(path, auth=ALICE, json={})  # default READ < EDIT
        assert refused.status_code == 403 and "EDIT" in refused.json()["message"]


def test_ui_login_session_and_csrf(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = {"Accept": "text/html"}
        first = browser.get("/", headers=page)
        assert first.status_code == 303 and first.headers["location"] == "/login?next=%2F"
        form = browser.get("/login", params={"next": "/"})
        assert form.status_code == 200 and 'name="password"' in form.text
        csrf = browser.cookies["mltrail_csrf"]
        login = {"username": ADMIN[0], "password": ADMIN[1], "csrf": csrf, "next": "/"}
        forged = browser.post("/login", data={**login, "csrf": "forged"})
        assert forged.status_code == 403
        wrong = browser.post("/login", data={**login, "password": "not the password"})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        done = browser.post("/login", data=login)
        assert done.status_code == 303 and done.headers["location"] == "/"
        cookie = next(h for h in done.headers.get_list("set-cookie") if "mltrail_session" in h)
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert browser.get("/", headers=page).status_code == 200
        # Changes need the CSRF header that the page's script sends.
        body = {"name": f"ui-{uuid.uuid4().hex[:6]}"}
        refused = browser.post("/ajax-api/ui/experiments/create", json=body)
        assert_error(refused, 403, "PERMISSION_DENIED", "CSRF")
        token = {"X-CSRF-Token": browser.cookies["mltrail_csrf"]}
        made = browser.post("/ajax-api/ui/experiments/create", json=body, headers=token)
        assert made.status_code == 200, made.text
        # Reads need no token; an open redirect is not possible.
        assert browser.get("/api/2.0/mlflow/experiments/get-by-name",
                           params={"experiment_name": body["name"]}).status_code == 200  # fmt: skip
        evil = browser.post("/login", data={**login, "csrf": browser.cookies["mltrail_csrf"],
                                            "next": "//evil.example/x"})  # fmt: skip
        assert evil.headers["location"] == "/"
        session = browser.cookies["mltrail_session"]
        assert browser.post("/logout").status_code == 303
    after = httpx.get(server.url + "/", headers=page, cookies={"mltrail_session": session})
    assert after.status_code == 303  # the session ended with the logout


def test_groups_give_their_members_grants(server: LiveServer, admin_exp: tuple[str, str]) -> None:
    from click.testing import CliRunner

    from mltrail.cli import main

    exp_id, run_id = admin_exp
    db = ["--backend-store-uri", server.settings.backend_store_uri]
    group = f"team{uuid.uuid4().hex[:6]}"

    def users(*args: str) -> str:
        result = CliRunner().invoke(main, ["users", *args, *db], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    users("create-group", group)
    users("add-to-group", group, BOB[0])
    users("grant-group", group, "EDIT", "--experiment-id", exp_id)
    assert f"{group}: {BOB[0]}" in users("groups")
    batch = {"run_id": run_id, "metrics": [{"key": "g", "value": 1, "timestamp": 1}]}
    server.app.state.forget_credentials()  # grants are cached a few seconds per worker
    with client(server, BOB) as bob, client(server, ALICE) as alice:
        assert bob.post("/runs/log-batch", json=batch).status_code == 200
        assert_error(alice.post("/runs/log-batch", json=batch), 403, "PERMISSION_DENIED")
        # Bob's own grant wins over his group's: it can take rights away.
        users("grant", BOB[0], "READ", "--experiment-id", exp_id)
        server.app.state.forget_credentials()
        assert_error(bob.post("/runs/log-batch", json=batch), 403, "PERMISSION_DENIED")
        users("remove-from-group", group, BOB[0])
    users("delete-group", group)
    assert group not in users("groups")


def test_password_guessing_is_throttled(tmp_path: Path, admin_env: None) -> None:
    with serve(auth_settings(tmp_path)) as live:
        make_user(live, BOB)
        url = live.api + "/users/current"
        for _ in range(20):
            assert httpx.get(url, auth=(BOB[0], "guess-guess-guess")).status_code == 401
        throttled = httpx.get(url, auth=(BOB[0], "guess-guess-guess"))
        assert_error(throttled, 429, "REQUEST_LIMIT_EXCEEDED", "Too many failed sign-ins")
        assert int(throttled.headers["retry-after"]) > 0
        # Even the right password waits out the window for that user name; others do not.
        assert httpx.get(url, auth=BOB).status_code == 429
        assert httpx.get(url, auth=ADMIN).status_code == 200
