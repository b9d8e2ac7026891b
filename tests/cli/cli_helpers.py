"""Helpers of the CLI tests: run the real ``mltrail`` command in a subprocess
(``python -m mltrail``) against a store seeded through the library in this process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


CliRunner = Callable[..., Result]


def run_cli(*args: str, uri: str | None = None, env: dict[str, str] | None = None) -> Result:
    command = [sys.executable, "-m", "mltrail", *args]
    if uri is not None:
        command += ["--tracking-uri", uri]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    done = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=120)
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_sentence_error(result: Result, code: int = 1, contains: str = "") -> None:
    """Failed with ``code``, said why in one ``Error:`` line, and showed no traceback."""
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    if code == 1:
        assert result.stderr.strip() == errors[0]
    assert contains.lower() in errors[0].lower(), errors[0]


@dataclass
class Seeded:
    uri: str
    experiment_id: str
    run_ids: list[str]  # by index: run i has lr = 0.1 * i and acc = i / 10


def seed(uri: str, tmp_path: Any, n_runs: int = 3) -> Seeded:
    """An experiment "vision" with ``n_runs`` finished runs, each with params, metrics, tags
    and an artifact file ``plots/curve.txt``."""
    from mltrail.entities import Metric, Param, RunTag
    from mltrail.tracking.client import TrailClient

    client = TrailClient(uri)
    exp_id = client.create_experiment("vision", tags={"team": "cv"})
    artifact = tmp_path / "curve.txt"
    artifact.write_text("0.1,0.2,0.3\n")
    run_ids = []
    for i in range(n_runs):
        run = client.create_run(exp_id, run_name=f"run-{i}", start_time=1_700_000_000_000 + i)
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[
                Metric("acc", i / 10, 1_700_000_000_000, 0),
                Metric("loss", float("nan") if i == 0 else 1.0 / i, 1_700_000_000_000, 0),
            ],
            params=[Param("lr", str(0.1 * i)), Param("optimizer", "adam")],
            tags=[RunTag("stage", "dev")],
        )
        client.log_artifact(rid, str(artifact), "plots")
        client.set_terminated(rid, "FINISHED")
        run_ids.append(rid)
    return Seeded(uri, exp_id, run_ids)
