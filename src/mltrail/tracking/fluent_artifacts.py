"""The fluent API's artifact functions: files, folders and in-memory objects logged to the
active run (or to ``run_id``)."""

from __future__ import annotations

from typing import Any

from mltrail.tracking.fluent import _active_run_id, _get_client


def log_artifact(
    local_path: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _get_client().log_artifact(_active_run_id(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _get_client().log_artifacts(_active_run_id(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _get_client().log_text(_active_run_id(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    _get_client().log_dict(_active_run_id(run_id), dictionary, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: Any = None, run_id: str | None = None
) -> None:
    _get_client().log_figure(_active_run_id(run_id), figure, artifact_file)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    **_ignored: Any,
) -> None:
    if artifact_file is None and key is not None:
        artifact_file = f"images/{key}_step_{step or 0}.png"
    _get_client().log_image(_active_run_id(run_id), image, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    client = _get_client()
    base = client.artifact_uri(_active_run_id())
    if not artifact_path:
        return base
    from mltrail.store.artifact.paths import safe_relative_path

    return f"{base.rstrip('/')}/{safe_relative_path(artifact_path)}"
