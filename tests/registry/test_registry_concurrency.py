"""Concurrent registration: many threads, and many processes, registering versions of one model
at once all get distinct numbers, 1..N with no gap, on SQLite and PostgreSQL (and MariaDB)."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from mltrail.store.sql.registry import SqlRegistryStore
from mltrail.store.sql.store import SqlStore

DB_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


@pytest.fixture(params=DB_BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    uri = {
        "sqlite": lambda: "sqlite:///" + str(tmp_path / "mltrail.db"),
        "postgresql": lambda: request.getfixturevalue("pg_uri"),
        "mysql": lambda: request.getfixturevalue("mysql_uri"),
    }[request.param]()
    return uri, str(tmp_path / "artifacts")


def _runs(uri: str, root: str, n: int) -> list[str]:
    tracking = SqlStore(uri, root)
    return [tracking.create_run("0", "u", 1, [], None).info.run_id for _ in range(n)]


def test_threads_get_distinct_numbers(db):
    uri, root = db
    registry = SqlRegistryStore(uri, root)
    registry.create_registered_model("m")
    run_ids = _runs(uri, root, 16)
    got: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(run_ids))

    def register(run_id: str) -> None:
        start.wait()
        try:
            got.append(registry.create_model_version("m", f"runs:/{run_id}/model", run_id).version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(r,)) for r in run_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(1, 17))
    stored = registry.search_model_versions("name = 'm'")
    assert sorted(v.version for v in stored) == list(range(1, 17))
    assert {v.run_id for v in stored} == set(run_ids)  # each registration landed once


def _register_in_process(uri: str, root: str, run_ids: list[str], out: object) -> None:
    registry = SqlRegistryStore(uri, root)
    for run_id in run_ids:
        version = registry.create_model_version("m", f"runs:/{run_id}/model", run_id)
        out.put(version.version)  # type: ignore[attr-defined]


def test_processes_get_distinct_numbers(db):
    uri, root = db
    SqlRegistryStore(uri, root).create_registered_model("m")
    run_ids = _runs(uri, root, 20)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_register_in_process, args=(uri, root, run_ids[i::4], queue))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    got = sorted(queue.get(timeout=10) for _ in run_ids)
    assert got == list(range(1, 21))
    stored = SqlRegistryStore(uri, root).search_model_versions("name = 'm'")
    assert sorted(v.version for v in stored) == list(range(1, 21))
    assert {v.run_id for v in stored} == set(run_ids)
