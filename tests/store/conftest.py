"""The stores the store suites run against: every SQL backend the machine has and, for the
suites that say so, the REST store through a live server."""

from __future__ import annotations

import pytest

SQL_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


def open_store(request: pytest.FixtureRequest, tmp_path, backend: str):
    """A fresh store of one backend for one test (a live server for ``"rest"``)."""
    if backend == "rest":
        from live_servers import ThreadServer, settings_for

        from mltrail.store.rest import RestStore

        server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
        request.addfinalizer(server.stop)
        return RestStore(server.url)
    from mltrail.store.sql.store import SqlStore

    uri = {
        "sqlite": lambda: "sqlite:///" + str(tmp_path / "mltrail.db"),
        "postgresql": lambda: request.getfixturevalue("pg_uri"),
        "mysql": lambda: request.getfixturevalue("mysql_uri"),
    }[backend]()
    return SqlStore(uri, str(tmp_path / "artifacts"))


@pytest.fixture(params=SQL_BACKENDS)
def store_on_sql(request, tmp_path):
    return open_store(request, tmp_path, request.param)


@pytest.fixture(params=[*SQL_BACKENDS, "rest"])
def store_anywhere(request, tmp_path):
    return open_store(request, tmp_path, request.param)
