"""``mltrail runs ...`` against a real SQLite store."""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_sentence_error


def _ids(result) -> list[str]:
    return [r["info"]["run_id"] for r in result.json()["runs"]]


def test_list_table_newest_first(cli, seeded):
    result = cli("runs", "list", "--experiment-id", seeded.experiment_id, uri=seeded.uri)
    assert result.code == 0, result.stderr
    header, _rule, *rows = result.stdout.splitlines()
    assert header.split("┃")[0].strip() == "Run ID"
    assert [row.split()[0] for row in rows] == seeded.run_ids[::-1]
    assert all("FINISHED" in row for row in rows)


def test_list_json_shape(cli, seeded):
    data = cli("runs", "list", "-x", seeded.experiment_id, "--json", uri=seeded.uri).json()
    assert list(data) == ["runs", "next_page_token"]
    run = data["runs"][-1]
    assert list(run) == ["info", "data"]
    assert run["info"]["run_id"] == seeded.run_ids[0]
    assert run["info"]["run_name"] == "run-0"
    assert run["data"]["params"] == {"lr": "0.0", "optimizer": "adam"}
    assert run["data"]["metrics"] == {"acc": 0.0, "loss": "NaN"}
    assert run["data"]["tags"]["stage"] == "dev"


def test_filter_order_and_max_results(cli, seeded):
    x = seeded.experiment_id
    found = cli(
        "runs",
        "list",
        "-x",
        x,
        "--filter",
        "metrics.acc > 0.05",
        "--order-by",
        "metrics.acc ASC",
        "--json",
        uri=seeded.uri,
    )
    assert _ids(found) == seeded.run_ids[1:]
    by_param = cli(
        "runs", "list", "-x", x, "--filter", "params.lr = '0.2'", "--json", uri=seeded.uri
    )
    assert _ids(by_param) == [seeded.run_ids[2]]
    first = cli("runs", "list", "-x", x, "--max-results", "2", "--json", uri=seeded.uri).json()
    assert len(first["runs"]) == 2
    rest = cli(
        "runs",
        "list",
        "-x",
        x,
        "--page-token",
        first["next_page_token"],
        "--json",
        uri=seeded.uri,
    )
    assert len(rest.json()["runs"]) == 1


def test_describe_table(cli, seeded):
    result = cli("runs", "describe", "--run-id", seeded.run_ids[1], uri=seeded.uri)
    assert result.code == 0
    text = result.stdout
    for expected in (
        seeded.run_ids[1],
        "run-1",
        "FINISHED",
        "Params",
        "optimizer",
        "adam",
        "Metrics",
        "acc",
        "0.1",
        "Tags",
        "stage",
    ):
        assert expected in text


def test_describe_json(cli, seeded):
    run = cli("runs", "describe", "-r", seeded.run_ids[2], "--json", uri=seeded.uri).json()
    assert list(run["info"]) == [
        "run_id",
        "run_name",
        "experiment_id",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "lifecycle_stage",
        "artifact_uri",
    ]
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["experiment_id"] == seeded.experiment_id
    assert run["data"]["metrics"] == {"acc": 0.2, "loss": 0.5}
    assert run["data"]["params"]["lr"] == "0.2"


def test_delete_and_restore(cli, seeded):
    x, rid = seeded.experiment_id, seeded.run_ids[0]
    deleted = cli("runs", "delete", "--run-id", rid, uri=seeded.uri)
    assert deleted.stdout.strip() == f"Deleted run {rid}."
    assert rid not in _ids(cli("runs", "list", "-x", x, "--json", uri=seeded.uri))
    assert _ids(cli("runs", "list", "-x", x, "--view", "deleted", "--json", uri=seeded.uri)) == [
        rid
    ]
    assert len(_ids(cli("runs", "list", "-x", x, "--view", "all", "--json", uri=seeded.uri))) == 3
    restored = cli("runs", "restore", "-r", rid, "--json", uri=seeded.uri)
    assert restored.json() == {"run_id": rid, "lifecycle_stage": "active"}
    assert rid in _ids(cli("runs", "list", "-x", x, "--json", uri=seeded.uri))


@pytest.mark.parametrize("command", ["describe", "delete", "restore"])
def test_unknown_run(cli, seeded, command):
    result = cli("runs", command, "-r", "0123456789abcdef0123456789abcdef", uri=seeded.uri)
    assert_one_sentence_error(result, contains="not found")


def test_unknown_experiment(cli, seeded):
    # An experiment that does not exist is an error (exit 1), not an empty listing.
    result = cli("runs", "list", "-x", "999", "--json", uri=seeded.uri)
    assert_one_sentence_error(result, contains="999")


@pytest.mark.parametrize(
    "args",
    [
        ["--filter", "metrics.acc >"],
        ["--filter", "metrics.acc > 1 AND"],
        ["--filter", "nonsense.acc > 1"],
        ["--order-by", "metrics.acc SIDEWAYS"],
    ],
)
def test_bad_filter_or_order(cli, seeded, args):
    result = cli("runs", "list", "-x", seeded.experiment_id, *args, uri=seeded.uri)
    assert_one_sentence_error(result)


def test_bad_page_token(cli, seeded):
    result = cli("runs", "list", "-x", seeded.experiment_id, "--page-token", "zzz", uri=seeded.uri)
    assert_one_sentence_error(result)


def test_max_results_must_be_positive(cli, seeded):
    result = cli("runs", "list", "-x", seeded.experiment_id, "--max-results", "0", uri=seeded.uri)
    assert_one_sentence_error(result, code=2, contains="--max-results")


def test_empty_experiment_says_so(cli, seeded):
    result = cli("runs", "list", "-x", "0", uri=seeded.uri)
    assert result.stdout.strip() == "No runs found."
