"""Helpers of the project tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from mltrail.tracking.client import TrailClient


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def only_run(client: TrailClient, experiment_name: str = "Default"):  # type: ignore[no-untyped-def]
    runs = all_runs(client, experiment_name)
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0]


def all_runs(client: TrailClient, experiment_name: str = "Default"):  # type: ignore[no-untyped-def]
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return []
    return list(client.search_runs([experiment.experiment_id], "", max_results=100))


def artifact_text(client: TrailClient, run_id: str, path: str) -> str:
    local = client.download_artifacts(run_id, path)
    return Path(local).read_text()


def child_env(store: str, env_cache: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update(
        {
            "MLTRAIL_TRACKING_URI": store,
            "MLTRAIL_ENV_CACHE": str(env_cache),
            "MLTRAIL_PROJECT_CACHE": str(tmp_path / "project-cache"),
            "MLFLOW_ENABLE_TELEMETRY": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
        }
    )
    return env
