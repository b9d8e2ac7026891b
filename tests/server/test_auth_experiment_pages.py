"""``experiments/search`` under ``--auth`` returns full pages of what the caller may read: a
real server (NO_PERMISSIONS by default) with 14 experiments, a user allowed on a scattered
subset, paged through over REST and with the real ``mlflow`` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mltrail_live import LiveServer
from test_auth_registry_pages import ADMIN, closed_server, full_pages_then_the_rest, pages

DANA = ("dana", "tidal-lantern-58")  # reads a scattered subset
EVAN = ("evan", "quiet-meadow-93")  # reads nothing
NAMES = [f"exp-{i:02d}" for i in range(14)]
DANA_READS = {NAMES[i] for i in (1, 2, 6, 7, 8, 12, 13)}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with closed_server(tmp_path_factory.mktemp("auth-experiment-pages")) as (server, admin):
        for who in (DANA, EVAN):
            made = admin.post("/users/create", json={"username": who[0], "password": who[1]})
            assert made.status_code == 200, made.text
        for name in NAMES:
            made = admin.post("/experiments/create", json={"name": name})
            assert made.status_code == 200, made.text
            if name in DANA_READS:
                grant = {
                    "experiment_id": made.json()["experiment_id"],
                    "username": DANA[0],
                    "permission": "READ",
                }
                granted = admin.post("/experiments/permissions/create", json=grant)
                assert granted.status_code == 200, granted.text
        yield server


def _names(found: list[tuple[list[dict], str | None]]) -> list[str]:
    return [e["name"] for items, _ in found for e in items]


@pytest.mark.parametrize("order_by", ["name ASC", "name DESC"])
def test_a_user_pages_through_exactly_the_experiments_they_may_read(
    live: LiveServer, order_by: str
) -> None:
    found = pages(
        live, DANA, "/experiments/search", "experiments", max_results=3, order_by=order_by
    )
    full_pages_then_the_rest(found, 3)
    assert _names(found) == sorted(DANA_READS, reverse=order_by.endswith("DESC"))


def test_an_admin_sees_every_experiment_in_full_pages(live: LiveServer) -> None:
    found = pages(
        live, ADMIN, "/experiments/search", "experiments", max_results=4, order_by="name ASC"
    )
    full_pages_then_the_rest(found, 4)
    assert _names(found) == sorted([*NAMES, "Default"])


def test_a_user_who_reads_nothing_gets_one_empty_page(live: LiveServer) -> None:
    found = pages(live, EVAN, "/experiments/search", "experiments", max_results=3)
    assert found == [([], None)]


def test_the_real_mlflow_client_pages_through(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", DANA[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", DANA[1])
    client = MlflowClient(tracking_uri=live.url)
    names: list[str] = []
    sizes: list[int] = []
    token = None
    while True:
        page = client.search_experiments(max_results=2, order_by=["name ASC"], page_token=token)
        names += [e.name for e in page]
        sizes.append(len(page))
        token = page.token
        if not token:
            break
    assert names == sorted(DANA_READS) and sizes == [2, 2, 2, 1]
