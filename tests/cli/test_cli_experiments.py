"""``mltrail experiments ...`` against a real SQLite store."""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_sentence_error

EXPERIMENT_KEYS = [
    "experiment_id",
    "name",
    "artifact_location",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
    "tags",
]


def test_create_prints_the_id(cli, sqlite_uri):
    result = cli("experiments", "create", "-n", "bert", uri=sqlite_uri)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "Created experiment 'bert' with ID 1."


def test_create_json_and_artifact_location(cli, sqlite_uri, tmp_path):
    where = str(tmp_path / "elsewhere")
    result = cli("experiments", "create", "-n", "gpt", "-l", where, "--json", uri=sqlite_uri)
    assert result.json() == {"experiment_id": "1", "name": "gpt"}
    got = cli("experiments", "get", "--experiment-id", "1", "--json", uri=sqlite_uri).json()
    assert got["artifact_location"] == where


def test_create_twice_fails_clearly(cli, sqlite_uri):
    assert cli("experiments", "create", "-n", "dup", uri=sqlite_uri).code == 0
    result = cli("experiments", "create", "-n", "dup", uri=sqlite_uri)
    assert_one_sentence_error(result, contains="already exists")


@pytest.mark.parametrize("command", ["list", "search"])
def test_list_table(cli, seeded, command):
    result = cli("experiments", command, uri=seeded.uri)
    assert result.code == 0
    header, _rule, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["ID", "┃", "Name", "┃"]
    assert sorted(row.split()[2] for row in rows) == ["Default", "vision"]


def test_list_json_shape(cli, seeded):
    data = cli("experiments", "list", "--json", uri=seeded.uri).json()
    assert list(data) == ["experiments", "next_page_token"]
    assert data["next_page_token"] is None
    (vision,) = [e for e in data["experiments"] if e["name"] == "vision"]
    assert list(vision) == EXPERIMENT_KEYS
    assert vision["tags"] == {"team": "cv"}
    assert vision["lifecycle_stage"] == "active"


def test_search_filter_and_paging(cli, sqlite_uri):
    for name in ("bert-base", "bert-large", "gpt"):
        cli("experiments", "create", "-n", name, uri=sqlite_uri)
    found = cli(
        "experiments",
        "search",
        "--filter",
        "name LIKE 'bert%'",
        "--order-by",
        "name DESC",
        "--json",
        uri=sqlite_uri,
    ).json()
    assert [e["name"] for e in found["experiments"]] == ["bert-large", "bert-base"]
    first = cli("experiments", "list", "--max-results", "2", "--json", uri=sqlite_uri).json()
    assert len(first["experiments"]) == 2
    assert first["next_page_token"]
    rest = cli(
        "experiments", "list", "--page-token", first["next_page_token"], "--json", uri=sqlite_uri
    ).json()
    names = [e["name"] for e in first["experiments"] + rest["experiments"]]
    assert sorted(names) == ["Default", "bert-base", "bert-large", "gpt"]
    table = cli("experiments", "list", "--max-results", "2", uri=sqlite_uri)
    assert "--page-token" in table.stdout


def test_get_table(cli, seeded):
    result = cli("experiments", "get", "-x", seeded.experiment_id, uri=seeded.uri)
    assert result.code == 0
    assert "vision" in result.stdout
    assert "team" in result.stdout


def test_rename(cli, seeded):
    result = cli(
        "experiments",
        "rename",
        "-x",
        seeded.experiment_id,
        "--new-name",
        "vision-2",
        uri=seeded.uri,
    )
    assert result.code == 0
    assert "vision-2" in result.stdout
    got = cli("experiments", "get", "-x", seeded.experiment_id, "--json", uri=seeded.uri).json()
    assert got["name"] == "vision-2"


def test_delete_and_restore_with_views(cli, seeded):
    exp = seeded.experiment_id
    deleted = cli("experiments", "delete", "-x", exp, "--json", uri=seeded.uri)
    assert deleted.json() == {"experiment_id": exp, "lifecycle_stage": "deleted"}

    def names(view: str) -> list[str]:
        data = cli("experiments", "list", "--view", view, "--json", uri=seeded.uri).json()
        return sorted(e["name"] for e in data["experiments"])

    assert names("active") == ["Default"]
    assert names("deleted") == ["vision"]
    assert names("all") == ["Default", "vision"]
    assert names("DELETED_ONLY") == ["vision"]  # MLflow's spelling works too
    runs = cli("runs", "list", "-x", exp, "--view", "deleted", "--json", uri=seeded.uri).json()
    assert len(runs["runs"]) == 3
    restored = cli("experiments", "restore", "-x", exp, uri=seeded.uri)
    assert restored.stdout.strip() == f"Restored experiment {exp}."
    assert names("active") == ["Default", "vision"]


def test_rename_deleted_experiment_fails_clearly(cli, seeded):
    cli("experiments", "delete", "-x", seeded.experiment_id, uri=seeded.uri)
    result = cli(
        "experiments", "rename", "-x", seeded.experiment_id, "--new-name", "x", uri=seeded.uri
    )
    assert_one_sentence_error(result, contains="active")


@pytest.mark.parametrize("command", ["get", "delete", "restore"])
def test_unknown_experiment_id(cli, seeded, command):
    result = cli("experiments", command, "--experiment-id", "999", uri=seeded.uri)
    assert_one_sentence_error(result, contains="999")


def test_non_numeric_experiment_id(cli, seeded):
    result = cli("experiments", "get", "-x", "abc", uri=seeded.uri)
    assert_one_sentence_error(result, contains="abc")


def test_bad_filter(cli, seeded):
    result = cli("experiments", "search", "--filter", "name LIKE", uri=seeded.uri)
    assert_one_sentence_error(result, contains="filter")


def test_bad_view_is_a_usage_error(cli, seeded):
    result = cli("experiments", "list", "--view", "gone", uri=seeded.uri)
    assert_one_sentence_error(result, code=2, contains="--view")


def test_empty_store_says_so(cli, sqlite_uri):
    from mltrail.tracking.client import TrailClient

    TrailClient(sqlite_uri)  # the store exists (listing never creates one)
    result = cli("experiments", "list", "--view", "deleted", uri=sqlite_uri)
    assert result.code == 0
    assert result.stdout.strip() == "No experiments found."
