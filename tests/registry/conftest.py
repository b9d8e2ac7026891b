"""Registry stores on every SQL backend the machine has and through a live server, each with
the tracking store of the same place (versions come from runs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SQL_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


@dataclass
class Stores:
    tracking: Any
    registry: Any
    artifact_root: Path  # where files would land on disk (the server's destination, or root)

    def new_run(self) -> Any:
        return self.tracking.create_run("0", "alice", 1000, [], None)


def open_stores(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Stores:
    if backend == "rest":
        from live_servers import ThreadServer, settings_for

        from mltrail.store.rest import RestStore
        from mltrail.store.rest_registry import RestRegistryStore

        dest = tmp_path / "dest"
        server = ThreadServer(settings_for(tmp_path, str(dest))).start()
        request.addfinalizer(server.stop)
        return Stores(RestStore(server.url), RestRegistryStore(server.url), dest)
    from mltrail.store.sql.registry import SqlRegistryStore
    from mltrail.store.sql.store import SqlStore

    uri = {
        "sqlite": lambda: "sqlite:///" + str(tmp_path / "mltrail.db"),
        "postgresql": lambda: request.getfixturevalue("pg_uri"),
        "mysql": lambda: request.getfixturevalue("mysql_uri"),
    }[backend]()
    root = tmp_path / "artifacts"
    return Stores(SqlStore(uri, str(root)), SqlRegistryStore(uri, str(root)), root)


@pytest.fixture(params=[*SQL_BACKENDS, "rest"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    return open_stores(request, tmp_path, request.param)


@pytest.fixture(params=SQL_BACKENDS)
def sql_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    return open_stores(request, tmp_path, request.param)
