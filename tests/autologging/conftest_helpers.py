"""Small readers shared by the autologging tests."""

from __future__ import annotations

import mltrail


def runs_in(experiment_id: str) -> list:
    return list(mltrail.TrailClient().search_runs([experiment_id]))


def artifact_paths(run_id: str, path: str | None = None) -> set[str]:
    return {f.path for f in mltrail.TrailClient().list_artifacts(run_id, path)}
