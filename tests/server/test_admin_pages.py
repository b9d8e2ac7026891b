"""The admin pages over real HTTP against a live server with --auth: administrators only, the
CSRF field on session-signed forms, other sites refused, output escaped, bad input a 4xx."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, make_settings, serve

ADMIN = ("root", "correct horse battery")
FRANK = ("frank", "amber-tundra-falcon-5")
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import os

    folder: Path = tmp_path_factory.mktemp("admin")
    os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"] = ADMIN
    try:
        settings = make_settings(f"sqlite:///{folder / 'db.sqlite'}", folder, auth=True)
        with serve(settings) as server:
            created = httpx.post(
                server.api + "/users/create",
                json={"username": FRANK[0], "password": FRANK[1]},
                auth=ADMIN,
            )
            assert created.status_code == 200, created.text
            yield server
    finally:
        del os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"]


@contextlib.contextmanager
def _signed_in(live: LiveServer, who: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as browser:
        yield _sign_in(browser, who)


def _sign_in(browser: httpx.Client, who: tuple[str, str]) -> httpx.Client:
    form = browser.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    done = browser.post(
        "/login",
        data={"csrf": csrf.group(1), "next": "/", "username": who[0], "password": who[1]},
    )
    assert done.status_code == 303, done.text
    return browser


def test_only_administrators_see_or_change_anything(live: LiveServer) -> None:
    for path in ("/admin/users", "/admin/groups", f"/admin/users/{ADMIN[0]}"):
        assert httpx.get(live.url + path, auth=FRANK).status_code == 403
        assert httpx.get(live.url + path, auth=ADMIN).status_code == 200
        anonymous = httpx.get(live.url + path, headers={"Accept": "text/html"})
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    refused = httpx.post(
        live.url + "/admin/users/set-admin",
        data={"username": FRANK[0], "is_admin": "true"},
        auth=FRANK,
    )
    assert refused.status_code == 403
    users = httpx.get(live.api + "/users/get", params={"username": FRANK[0]}, auth=ADMIN)
    assert users.json()["user"]["is_admin"] is False


def test_session_forms_need_the_csrf_field(live: LiveServer) -> None:
    with _signed_in(live, ADMIN) as browser:
        page = browser.get("/admin/groups")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None and csrf.group(1) == browser.cookies["mltrail_csrf"]
        forged = browser.post("/admin/groups/create", data={"group": "forged"})
        assert forged.status_code == 403
        assert "CSRF" in forged.json()["message"]
        wrong = browser.post("/admin/groups/create", data={"group": "forged", "csrf": "nope"})
        assert wrong.status_code == 403
        made = browser.post("/admin/groups/create", data={"group": "ops", "csrf": csrf.group(1)})
        assert made.status_code == 303 and made.headers["location"] == "/admin/groups?saved=1"
        assert 'data-group="ops"' in browser.get("/admin/groups").text
        # Another site's page cannot post, whatever it sends.
        cross = browser.post(
            "/admin/groups/delete",
            data={"group": "ops", "csrf": csrf.group(1)},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        assert 'data-group="ops"' in browser.get("/admin/groups").text


def test_output_is_escaped_and_bad_input_is_a_clear_4xx(live: LiveServer) -> None:
    created = httpx.post(live.api + "/registered-models/create", json={"name": HOSTILE}, auth=ADMIN)
    assert created.status_code == 200, created.text
    granted = httpx.post(
        live.url + "/admin/users/grant",
        data={
            "username": FRANK[0],
            "kind": "registered_model",
            "resource": HOSTILE,
            "permission": "READ",
        },  # fmt: skip
        auth=ADMIN,
    )
    assert granted.status_code == 303
    page = httpx.get(live.url + f"/admin/users/{FRANK[0]}", auth=ADMIN).text
    assert HOSTILE not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page

    cases = [
        ({"username": FRANK[0], "kind": "run", "resource": "1"}, 400, "experiment or a registered"),
        ({"username": FRANK[0], "kind": "experiment", "resource": "424242"}, 404, "424242"),
        ({"username": "nobody", "kind": "registered_model", "resource": HOSTILE}, 404, "nobody"),
        (
            {
                "username": FRANK[0],
                "kind": "registered_model",
                "resource": HOSTILE,
                "permission": "ROOT",
            },
            400,
            "Invalid permission",
        ),  # fmt: skip
    ]
    for form, status, text in cases:
        answer = httpx.post(live.url + "/admin/users/grant", data=form, auth=ADMIN)
        assert answer.status_code == status, (form, answer.text[:300])
        assert text in answer.text.replace("&#39;", "'")
    weak = httpx.post(
        live.url + "/admin/users/create", data={"username": "gina", "password": "x"}, auth=ADMIN
    )
    assert weak.status_code == 400 and "too short" in weak.text
    myself = httpx.post(live.url + "/admin/users/delete", data={"username": ADMIN[0]}, auth=ADMIN)
    assert myself.status_code == 400 and "yourself" in myself.text
    unknown = httpx.post(live.url + "/admin/users/explode", data={}, auth=ADMIN)
    assert unknown.status_code == 404
