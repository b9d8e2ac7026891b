"""``mltrail server --registry-store-uri``: the model registry in a database of its own.
Registered models and versions land there; runs stay in the tracking database; a version's
source is still checked against its run, read from the tracking database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from mltrail_live import fresh_pg_database, make_settings, serve

from mltrail.cli.server import build_settings


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def registry_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    with fresh_pg_database(request.getfixturevalue("pg_server")) as uri:
        yield uri


def _count(uri: str, table: str) -> int:
    engine = sa.create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_registry_data_lands_in_its_own_database(tmp_path: Path, registry_uri: str) -> None:
    tracking_uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    settings = make_settings(tracking_uri, tmp_path, registry_store_uri=registry_uri)
    with serve(settings) as live, httpx.Client(base_url=live.api, timeout=30) as api:
        exp = api.post("/experiments/create", json={"name": "split"}).json()["experiment_id"]
        run = api.post("/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
        created = api.post("/registered-models/create", json={"name": "churn"})
        assert created.status_code == 200, created.text
        version = api.post(
            "/model-versions/create",
            json={
                "name": "churn",
                "source": f"runs:/{run['run_id']}/model",
                "run_id": run["run_id"],
            },  # fmt: skip
        )
        assert version.status_code == 200, version.text
        assert version.json()["model_version"]["version"] == "1"
        # A source run the tracking database does not have is refused, as without the split.
        ghost_id = "0" * 32
        ghost = api.post(
            "/model-versions/create",
            json={"name": "churn", "source": f"runs:/{ghost_id}/model", "run_id": ghost_id},
        )
        assert ghost.status_code == 400 and "names no run" in ghost.text, ghost.text
        found = api.get("/registered-models/get", params={"name": "churn"}).json()
        assert found["registered_model"]["name"] == "churn"

    assert _count(registry_uri, "registered_models") == 1
    assert _count(registry_uri, "model_versions") == 1
    assert _count(registry_uri, "runs") == 0
    assert _count(tracking_uri, "registered_models") == 0
    assert _count(tracking_uri, "model_versions") == 0
    assert _count(tracking_uri, "runs") == 1


def test_the_option_names_the_database(tmp_path: Path) -> None:
    settings = build_settings(
        "sqlite:///t.db", None, "./a", True, None, None, registry_store_uri="sqlite:///r.db"
    )
    assert settings.registry_store_uri == f"sqlite:///{tmp_path / 'r.db'}"
    same = build_settings(
        "sqlite:///t.db", None, "./a", True, None, None, registry_store_uri="sqlite:///t.db"
    )
    assert same.registry_store_uri is None  # the same database: nothing apart
    env = settings.to_env()
    assert env["MLTRAIL_REGISTRY_STORE_URI"] == settings.registry_store_uri
