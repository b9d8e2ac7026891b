"""``mltrail run`` on an existing SQLite store keeps its run without SQLAlchemy
(``SqliteRunBook``), and what it writes is what the full client writes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from project_helpers import all_runs, artifact_text, child_env, write_project

from mltrail.entities import Param
from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.projects.run_client import open_project_client
from mltrail.projects.sqlite_book import SqliteRunBook
from mltrail.tracking.client import TrailClient

PROJECT = {
    "MLproject": (
        "name: book\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters: {alpha: {type: float, default: 0.1}, note: {type: string, default: x}}\n"
        "    command: \"python -c 'print(\\\"ran\\\", {alpha})' {note}\"\n"
    ),
}


def _db_path(store: str) -> str:
    return store[len("sqlite:///"):]


def test_run_written_by_the_book_matches_the_full_client(
    mltrail_run, client: TrailClient, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "proj", PROJECT)
    for full in ("1", "0"):
        done = mltrail_run(str(root), "-P", "alpha=0.5", "--experiment-name", "cmp",
                           "--run-name", f"full-{full}",
                           env={"MLTRAIL_PROJECT_FULL_CLIENT": full})
        assert done.returncode == 0, done.stderr
    runs = {r.info.run_name: r for r in all_runs(client, "cmp")}
    by_full, by_book = runs["full-1"], runs["full-0"]
    assert by_book.info.status == by_full.info.status == "FINISHED"
    assert by_book.info.end_time is not None
    assert by_book.data.params == by_full.data.params == {"alpha": "0.5", "note": "x"}
    assert set(by_book.data.tags) == set(by_full.data.tags)
    assert by_book.info.artifact_uri.endswith(f"/{by_book.info.run_id}/artifacts")
    assert "ran 0.5" in artifact_text(client, by_book.info.run_id, "mltrail-project/output.log")


def test_launcher_on_an_existing_store_never_imports_sqlalchemy(
    client: TrailClient, store: str, env_cache: Path, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "proj", PROJECT)
    code = (
        "import sys\n"
        "from mltrail.cli import main\n"
        "try:\n"
        f"    main(['run', {str(root)!r}, '-q'], prog_name='mltrail')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('SQLALCHEMY', 'sqlalchemy' in sys.modules, 'PANDAS', 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=child_env(store, env_cache, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SQLALCHEMY False PANDAS False" in done.stdout
    [run] = all_runs(client)
    assert run.info.status == "FINISHED"


def test_book_only_for_a_store_at_the_current_schema(client: TrailClient, store: str,
                                                      tmp_path: Path) -> None:
    book = open_project_client(store, "local")
    assert isinstance(book, SqliteRunBook)
    book.close()
    assert isinstance(open_project_client(store, "kubernetes"), TrailClient)
    missing = "sqlite:///" + str(tmp_path / "nothing-here.db")
    assert SqliteRunBook.open(missing) is None
    with sqlite3.connect(_db_path(store)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    assert SqliteRunBook.open(store) is None


def test_book_refuses_what_the_store_refuses(client: TrailClient, store: str) -> None:
    book = SqliteRunBook.open(store)
    assert book is not None
    gone = client.create_experiment("gone")
    client.delete_experiment(gone)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        book.create_run(gone, tags={"mlflow.user": "me"})
    run = book.create_run("0", tags={"mlflow.user": "me"}, run_name="r")
    rid = run.info.run_id
    book.log_batch(rid, params=[Param("a", "1")])
    book.log_batch(rid, params=[Param("a", "1")])  # the same value again is fine
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        book.log_batch(rid, params=[Param("a", "2")])
    book.set_terminated(rid, "FAILED")
    stored = client.get_run(rid)
    assert (stored.info.status, stored.info.run_name, stored.info.user_id) == ("FAILED", "r", "me")
    assert stored.data.params == {"a": "1"}
    client.delete_run(rid)
    with pytest.raises(MltrailException, match="must be in the 'active' state"):
        book.set_terminated(rid, "FINISHED")
    book.close()
