"""Registry searches under ``--auth`` return full pages of what the caller may read: a real
server (NO_PERMISSIONS by default) with 25 models of two versions each, a user allowed on a
scattered subset, paged through over REST and with the real ``mlflow`` client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mltrail_live import LiveServer, make_settings, serve

from mltrail.server.api.readable_pages import MAX_STORE_PAGES

ADMIN = ("root", "correct horse battery")
ALICE = ("alice", "s3cret-passphrase-A1")  # reads the scattered subset
BOB = ("bob", "different-passphrase-B2")  # reads only the last model
CAROL = ("carol", "winter-orchard-71")  # reads nothing
NAMES = [f"model-{i:02d}" for i in range(25)]
ALICE_READS = {NAMES[i] for i in (0, 3, 4, 5, 9, 13, 14, 20, 22, 24)}


@contextmanager
def closed_server(folder: Path) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server under --auth where nobody reads anything by default, and its admin's client."""
    settings = make_settings(
        f"sqlite:///{folder / 'db.sqlite'}",
        folder,
        auth=True,
        auth_default_permission="NO_PERMISSIONS",
    )
    os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"] = ADMIN
    try:
        with serve(settings) as server, _as(server, ADMIN) as admin:
            yield server, admin
    finally:
        del os.environ["MLTRAIL_AUTH_ADMIN_USERNAME"], os.environ["MLTRAIL_AUTH_ADMIN_PASSWORD"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with closed_server(tmp_path_factory.mktemp("auth-pages")) as (server, admin):
        for who in (ALICE, BOB, CAROL):
            made = admin.post("/users/create", json={"username": who[0], "password": who[1]})
            assert made.status_code == 200, made.text
        exp = admin.post("/experiments/create", json={"name": "pages"}).json()
        run = admin.post("/runs/create", json=exp).json()["run"]["info"]["run_id"]
        for name in NAMES:
            assert admin.post("/registered-models/create", json={"name": name}).is_success
            for _ in range(2):
                version = {"name": name, "source": f"runs:/{run}/model", "run_id": run}
                made = admin.post("/model-versions/create", json=version)
                assert made.status_code == 200, made.text
        grants = [(ALICE[0], n) for n in sorted(ALICE_READS)] + [(BOB[0], NAMES[-1])]
        for username, name in grants:
            grant = {"name": name, "username": username, "permission": "READ"}
            made = admin.post("/registered-models/permissions/create", json=grant)
            assert made.status_code == 200, made.text
        yield server


def _as(server: LiveServer, who: tuple[str, str]) -> httpx.Client:
    return httpx.Client(base_url=server.api, auth=who, timeout=30)


def pages(
    server: LiveServer, who: tuple[str, str], path: str, key: str, **params: Any
) -> list[tuple[list[dict[str, Any]], str | None]]:
    """Every page of a search, following the tokens: (items, token) each."""
    found: list[tuple[list[dict[str, Any]], str | None]] = []
    token = None
    with _as(server, who) as http:
        while True:
            query = {**params, **({"page_token": token} if token else {})}
            answer = http.get(path, params=query)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            token = body.get("next_page_token")
            found.append((body.get(key, []), token))
            if token is None:
                return found
            assert len(found) < 100, "the listing does not end"


def full_pages_then_the_rest(found: list[tuple[list[Any], str | None]], size: int) -> None:
    assert all(len(items) == size for items, _ in found[:-1])
    assert 0 < len(found[-1][0]) <= size and found[-1][1] is None


@pytest.mark.parametrize("order_by", [None, "name DESC"])
def test_a_user_pages_through_exactly_the_models_they_may_read(
    live: LiveServer, order_by: str | None
) -> None:
    extra = {"order_by": order_by} if order_by else {}
    path, key = "/registered-models/search", "registered_models"
    everything = [m["name"] for items, _ in pages(live, ADMIN, path, key, **extra) for m in items]
    assert sorted(everything) == NAMES
    found = pages(live, ALICE, path, key, max_results=4, **extra)
    listed = [m["name"] for items, _ in found for m in items]
    assert listed == [n for n in everything if n in ALICE_READS]  # in order, once each
    assert [len(items) for items, _ in found] == [4, 4, 2]
    full_pages_then_the_rest(found, 4)


def test_an_admin_sees_every_model_in_full_pages(live: LiveServer) -> None:
    found = pages(live, ADMIN, "/registered-models/search", "registered_models", max_results=4)
    assert [m["name"] for items, _ in found for m in items] == NAMES
    full_pages_then_the_rest(found, 4)


def test_model_versions_page_the_same_way(live: LiveServer) -> None:
    path, key = "/model-versions/search", "model_versions"
    everything = [
        (v["name"], v["version"]) for items, _ in pages(live, ADMIN, path, key) for v in items
    ]
    assert len(everything) == 2 * len(NAMES)
    found = pages(live, ALICE, path, key, max_results=3)
    listed = [(v["name"], v["version"]) for items, _ in found for v in items]
    assert listed == [pair for pair in everything if pair[0] in ALICE_READS]
    assert len(listed) == 2 * len(ALICE_READS)
    full_pages_then_the_rest(found, 3)
    filtered = pages(live, ALICE, path, key, max_results=2, filter="name LIKE 'model-2%'")
    names = [v["name"] for items, _ in filtered for v in items]
    assert sorted(set(names)) == ["model-20", "model-22", "model-24"] and len(names) == 6
    full_pages_then_the_rest(filtered, 2)


def test_one_request_scans_a_bounded_number_of_store_pages(live: LiveServer) -> None:
    # Bob reads only the last of 25 models: with pages of one, each request reads at most
    # MAX_STORE_PAGES rows, answers an empty page with a token, and the last finds the model.
    found = pages(live, BOB, "/registered-models/search", "registered_models", max_results=1)
    assert [m["name"] for items, _ in found for m in items] == [NAMES[-1]]
    scans = -(-len(NAMES) // MAX_STORE_PAGES)
    assert [len(items) for items, _ in found] == [0] * (scans - 1) + [1]
    # Carol reads nothing: one empty page and no token when a request can scan everything.
    nothing = pages(live, CAROL, "/registered-models/search", "registered_models", max_results=4)
    assert nothing == [([], None)]


def test_the_real_mlflow_client_pages_through(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ALICE[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ALICE[1])
    client = MlflowClient(tracking_uri=live.url, registry_uri=live.url)
    names: list[str] = []
    sizes: list[int] = []
    token = None
    while True:
        page = client.search_registered_models(
            max_results=4, order_by=["name ASC"], page_token=token
        )
        names += [m.name for m in page]
        sizes.append(len(page))
        token = page.token
        if not token:
            break
    assert names == sorted(ALICE_READS) and sizes == [4, 4, 2]
    versions: list[tuple[str, str]] = []
    token = None
    while True:
        found = client.search_model_versions(max_results=3, page_token=token)
        versions += [(v.name, str(v.version)) for v in found]
        token = found.token
        if not token:
            break
    assert len(versions) == len(set(versions)) == 2 * len(ALICE_READS)
    assert {name for name, _ in versions} == ALICE_READS
