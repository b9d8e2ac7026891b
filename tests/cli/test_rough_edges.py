"""First-run rough edges (issue 8, part 10), each checked the way a new user meets it: the
real ``mltrail`` command in a subprocess, in an empty folder or against a seeded store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_sentence_error

REPO = Path(__file__).resolve().parents[2]
NOTICE = "mltrail: tracking to"


def _loud() -> dict[str, str]:
    """The environment of a user who did not ask for quiet (the suite sets MLTRAIL_QUIET)."""
    return {**os.environ, "MLTRAIL_QUIET": ""}


def test_runs_list_shows_what_it_sorted_and_filtered_by(cli, seeded):
    result = cli(
        "runs", "list", "-x", seeded.experiment_id, "--order-by", "metrics.acc DESC",
        "--filter", "params.optimizer = 'adam'", uri=seeded.uri,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert "metrics.acc" in header and "params.optimizer" in header
    rows = [line for line in result.stdout.splitlines() if "run-" in line]
    # the values it sorted by are on screen, in that order
    assert [row.split("│")[5].strip() for row in rows] == ["0.2", "0.1", "0"]


def test_runs_list_without_filter_shows_some_metrics_and_params(cli, seeded):
    result = cli("runs", "list", "-x", seeded.experiment_id, uri=seeded.uri)
    header = result.stdout.splitlines()[0]
    assert "metrics.acc" in header and "params.lr" in header


def test_short_durations_are_not_zero(cli, seeded):
    from mltrail.tracking.client import TrailClient

    client = TrailClient(seeded.uri)
    run = client.create_run(seeded.experiment_id, run_name="quick", start_time=1_000)
    client.set_terminated(run.info.run_id, end_time=1_250)
    result = cli("runs", "list", "-x", seeded.experiment_id, uri=seeded.uri)
    quick = next(line for line in result.stdout.splitlines() if "quick" in line)
    assert "250ms" in quick and "0.0s" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["experiments", "list"],
        ["experiments", "get", "-x", "0"],
        ["runs", "list", "-x", "0"],
        ["runs", "describe", "-r", "0123456789abcdef0123456789abcdef"],
        ["artifacts", "list", "-r", "0123456789abcdef0123456789abcdef"],
    ],
)
def test_read_only_commands_do_not_create_a_store(cli, tmp_path, args):
    result = cli(*args)
    assert_one_sentence_error(result, contains="No mltrail store at")
    assert "experiments create" in result.stderr
    assert not (tmp_path / "mltrail.db").exists()


def test_store_notice_is_printed_when_the_store_is_made_only(cli, tmp_path):
    first = cli("experiments", "create", "-n", "a", env=_loud())
    assert first.code == 0 and NOTICE in first.stderr
    again = cli("experiments", "list", env=_loud())
    assert again.code == 0 and NOTICE not in again.stderr
    assert "Default" in again.stdout


def test_a_server_that_is_down_is_reported_at_once_with_a_short_budget(cli):
    from live_servers import free_port

    result = cli(
        "experiments", "list", "--tracking-uri", f"http://127.0.0.1:{free_port()}",
        env={"MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR": "0.01"},
    )  # fmt: skip
    lines = result.stderr.splitlines()
    assert "cannot reach" in lines[0] and "retrying 2 times" in lines[0]  # said first
    assert result.code == 1
    assert "3 attempts" in lines[-1] and lines[-1].startswith("Error:")


@pytest.mark.parametrize(
    ("uri", "extra", "not_named"),
    [
        ("postgresql+pg8000://u@127.0.0.1:5432/db", "mltrail[postgres]", "mysql"),
        ("mysql+mysqldb://u@127.0.0.1:3306/db", "mltrail[mysql]", "postgres"),
    ],
)
def test_missing_driver_names_only_the_fitting_extra(cli, uri, extra, not_named):
    module = {"mysql": "MySQLdb", "postgresql": "pg8000"}[uri.split("+")[0]]
    if subprocess.run([sys.executable, "-c", f"import {module}"]).returncode == 0:
        pytest.skip(f"{module} is installed here")
    result = cli("experiments", "create", "-n", "x", uri=uri)
    assert_one_sentence_error(result, contains=extra)
    assert not_named not in result.stderr.split("install it with")[-1]


def test_demo_logs_its_sweep_once(tmp_path):
    def demo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "examples" / "quickstart.py")],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_loud(),
        )  # fmt: skip

    assert demo().returncode == 0
    from mltrail.tracking.client import TrailClient

    client = TrailClient("sqlite:///" + str(tmp_path / "mltrail.db"))
    experiment = client.get_experiment_by_name("penguins")
    assert experiment is not None
    before = len(client.search_runs([experiment.experiment_id], max_results=1000))
    second = demo()
    assert second.returncode == 0 and "already" in second.stdout
    assert len(client.search_runs([experiment.experiment_id], max_results=1000)) == before == 7


def test_browser_tests_fail_loudly_in_ci_without_chromium(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         str(REPO / "tests" / "ui" / "test_browser_experiments.py")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CI": "true", "MLTRAIL_TEST_CHROMIUM": str(tmp_path / "nothing")},
    )  # fmt: skip
    assert done.returncode != 0
    assert "required in CI" in done.stdout


def test_experiments_csv(cli, seeded, tmp_path):
    out = tmp_path / "runs.csv"
    result = cli("experiments", "csv", "-x", seeded.experiment_id, "-o", str(out), uri=seeded.uri)
    assert result.code == 0, result.stderr
    import csv

    rows = list(csv.DictReader(out.open()))
    assert sorted(r["run_id"] for r in rows) == sorted(seeded.run_ids)
    assert {"params.lr", "metrics.acc", "tags.stage"} <= set(rows[0])
    by_id = {r["run_id"]: r for r in rows}
    assert float(by_id[seeded.run_ids[2]]["metrics.acc"]) == 0.2
    printed = cli("experiments", "csv", "-x", seeded.experiment_id, uri=seeded.uri)
    assert printed.stdout.splitlines()[0].startswith("run_id,experiment_id,status")
    missing = cli("experiments", "csv", "-x", "999", "-o", str(tmp_path / "x.csv"), uri=seeded.uri)
    assert_one_sentence_error(missing, contains="999")
    assert not (tmp_path / "x.csv").exists()


def test_doctor_on_a_store_and_on_a_server_that_is_down(cli, seeded):
    from live_servers import free_port

    ok = cli("doctor", "--json", uri=seeded.uri)
    assert ok.code == 0, ok.stderr
    report = ok.json()
    assert report["store"]["schema_revision"] and report["store"]["schema_current"] is True
    assert report["artifact_root"] and report["packages"]["sqlalchemy"]
    table = cli("doctor", uri=seeded.uri)
    assert "schema_revision" in table.stdout and "tracking URI" in table.stdout
    down = cli(
        "doctor", "--json", "--tracking-uri", f"http://127.0.0.1:{free_port()}",
        env={"MLTRAIL_HTTP_REQUEST_MAX_RETRIES": "0"},
    )  # fmt: skip
    assert down.code == 1
    assert json.loads(down.stdout)["store"]["reachable"] is False


def test_doctor_in_an_empty_folder_creates_nothing(cli, tmp_path):
    result = cli("doctor", "--json")
    assert result.code == 1
    assert "no store" in result.json()["store"]["problem"]
    assert not (tmp_path / "mltrail.db").exists()
