"""The same commands against the machine's PostgreSQL."""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_sentence_error, seed

from mltrail.store.sql.migrate import HEAD_REVISION

pytestmark = pytest.mark.postgres


def test_commands_on_postgresql(cli, pg_uri, tmp_path):
    upgraded = cli("db", "upgrade", pg_uri, "--json").json()
    assert upgraded["revision"] == HEAD_REVISION
    assert upgraded["upgraded"] is True
    assert upgraded["uri"].startswith("postgresql+psycopg://postgres@127.0.0.1:5432/")

    seeded = seed(pg_uri, tmp_path)
    x = seeded.experiment_id
    created = cli("experiments", "create", "-n", "pg-exp", "--json", uri=pg_uri).json()
    listed = cli("experiments", "list", "--json", uri=pg_uri).json()["experiments"]
    names = [e["name"] for e in listed]
    assert {"vision", "pg-exp", "Default"} == set(names)

    found = cli(
        "runs",
        "list",
        "-x",
        x,
        "--filter",
        "metrics.acc >= 0.1",
        "--order-by",
        "metrics.acc DESC",
        "--json",
        uri=pg_uri,
    ).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == seeded.run_ids[:0:-1]

    described = cli("runs", "describe", "-r", seeded.run_ids[0], "--json", uri=pg_uri).json()
    assert described["data"]["metrics"] == {"acc": 0.0, "loss": "NaN"}

    assert cli("runs", "delete", "-r", seeded.run_ids[0], uri=pg_uri).code == 0
    deleted = cli("runs", "list", "-x", x, "--view", "deleted", "--json", uri=pg_uri).json()
    assert [r["info"]["run_id"] for r in deleted["runs"]] == [seeded.run_ids[0]]

    assert (
        cli(
            "experiments",
            "rename",
            "-x",
            created["experiment_id"],
            "--new-name",
            "pg-2",
            uri=pg_uri,
        ).code
        == 0
    )
    assert cli("experiments", "delete", "-x", created["experiment_id"], uri=pg_uri).code == 0
    listed = cli(
        "artifacts", "list", "-r", seeded.run_ids[1], "-a", "plots", "--json", uri=pg_uri
    ).json()
    assert listed["files"][0]["path"] == "plots/curve.txt"

    assert_one_sentence_error(cli("experiments", "get", "-x", "4242", uri=pg_uri), contains="4242")
    assert_one_sentence_error(
        cli("runs", "list", "-x", x, "--filter", "metrics.acc >>> 1", uri=pg_uri)
    )
