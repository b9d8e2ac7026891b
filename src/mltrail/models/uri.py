"""Model URIs: where a model lives, and a local copy of it.

Forms: a local path or ``file://``; ``runs:/<run_id>/<path>`` (a logged model of that run
named ``<path>``'s first segment, else the run's artifacts); ``models:/<model_id>``;
``models:/<name>/<version|stage|latest>`` and ``models:/<name>@<alias>`` (through the model
registry); and artifact URIs (``s3://``, ``mlflow-artifacts:/``, ``http(s)://``).
A URI is only ever parsed here, never handed to a shell.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound

_MAX_INDIRECTIONS = 5  # models:/name/1 -> models:/m-... -> a location


@dataclass(frozen=True)
class RegistryRef:
    """The registry part of a ``models:/`` URI."""

    name: str
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False


def _client(tracking_uri: str | None = None) -> Any:
    from mltrail.tracking.client import TrailClient

    return TrailClient(tracking_uri)


def parse_models_uri(uri: str) -> tuple[str | RegistryRef, str]:
    """(model id or registry reference, sub-path) of a ``models:/`` URI."""
    body = uri[len("models:") :].lstrip("/")
    if not body:
        raise InvalidParameter(
            f"Not a proper models:/ URI: {uri!r}. Use models:/<model_id>, "
            "models:/<name>/<version> or models:/<name>@<alias>."
        )
    parts = body.split("/")
    head = parts[0]
    if "@" in head:
        name, _, alias = head.partition("@")
        if not name or not alias:
            raise InvalidParameter(f"Not a proper models:/ URI: {uri!r} (empty name or alias).")
        return RegistryRef(unquote(name), alias=unquote(alias)), "/".join(parts[1:])
    if len(parts) == 1:
        return unquote(head), ""
    name, second = unquote(head), unquote(parts[1])
    if not name or not second:
        raise InvalidParameter(f"Not a proper models:/ URI: {uri!r} (empty name or version).")
    rest = "/".join(parts[2:])
    if second.isdigit():
        return RegistryRef(name, version=second), rest
    if second.lower() == "latest":
        return RegistryRef(name, latest=True), rest
    return RegistryRef(name, stage=second), rest


def _registry_source(client: Any, ref: RegistryRef) -> str:
    method = (
        "get_model_version_by_alias"
        if ref.alias
        else ("get_model_version" if ref.version else "get_latest_versions")
    )
    if not hasattr(client, method):
        raise MltrailException(
            f"Cannot resolve models:/{ref.name}/...: this mltrail has no model registry "
            f"(TrailClient.{method} is missing). Use runs:/<run_id>/<path> or "
            "models:/<model_id> instead.",
            error_code="NOT_IMPLEMENTED",
        )
    if ref.alias:
        version = client.get_model_version_by_alias(ref.name, ref.alias)
    elif ref.version:
        version = client.get_model_version(ref.name, ref.version)
    else:
        stages = None if ref.latest else [ref.stage]
        found = client.get_latest_versions(ref.name, stages=stages)
        if ref.stage:
            found = [v for v in found if str(v.current_stage).lower() == ref.stage.lower()]
        if not found:
            what = f"and stage '{ref.stage}' " if ref.stage else ""
            raise NotFound(f"No versions of model with name '{ref.name}' {what}found")
        version = max(found, key=lambda v: int(v.version))
    source = getattr(version, "storage_location", None) or version.source
    # A source of models:/<id> (MLflow 3) is followed; its storage location is the files.
    return str(version.source if str(version.source).startswith("models:/m-") else source)


def _logged_model_location(client: Any, model_id: str) -> str:
    try:
        return str(client.get_logged_model(model_id).artifact_location)
    except NotFound:
        raise NotFound(f"Logged model with ID '{model_id}' not found.") from None


def _run_model_location(client: Any, run_id: str, path: str) -> str | None:
    """The artifact location of the newest logged model of ``run_id`` named like the first
    segment of ``path`` (MLflow 3 puts model files there, not in the run's artifacts)."""
    name, _, rest = path.partition("/")
    if not name:
        return None
    run = client.get_run(run_id)
    outputs = getattr(getattr(run, "outputs", None), "model_outputs", None) or []
    candidates = []
    for out in outputs:
        try:
            model = client.get_logged_model(out.model_id)
        except NotFound:
            continue
        if model.name == name and model.source_run_id == run_id:
            candidates.append(model)
    if not candidates:
        return None
    newest = max(candidates, key=lambda m: m.creation_timestamp)
    return _join(newest.artifact_location, rest)


def _join(base: str, rest: str) -> str:
    return base.rstrip("/") + "/" + rest if rest else base


def resolve_artifact_location(uri: str, tracking_uri: str | None = None) -> str:
    """The storage URI (local path, s3://, mlflow-artifacts:/ ...) a model URI stands for;
    for ``runs:/`` URIs that name no logged model, the ``runs:/`` URI itself."""
    uri = os.fspath(uri)
    for _ in range(_MAX_INDIRECTIONS):
        if uri.startswith("models:"):
            target, rest = parse_models_uri(uri)
            client = _client(tracking_uri)
            if isinstance(target, str):
                return _join(_logged_model_location(client, target), rest)
            uri = _join(_registry_source(client, target), rest)
            continue
        if uri.startswith("runs:"):
            run_id, path = _split_runs_uri(uri)
            location = _run_model_location(_client(tracking_uri), run_id, path)
            return location if location is not None else uri
        return uri
    raise InvalidParameter(f"The model URI {uri!r} refers to itself in a loop.")


def _split_runs_uri(uri: str) -> tuple[str, str]:
    body = uri[len("runs:") :].lstrip("/")
    run_id, _, path = body.partition("/")
    if not re.fullmatch(r"[0-9A-Za-z_-]+", run_id or ""):
        raise InvalidParameter(f"Not a proper runs:/ URI: {uri!r}. Use runs:/<run_id>/<path>.")
    return run_id, path.strip("/")


def _local_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if parsed.scheme == "" or len(parsed.scheme) == 1:
        return uri
    return None


def download_model(uri: str, dst_path: str | None = None, tracking_uri: str | None = None) -> str:
    """A local directory holding the model at ``uri`` (a local path is used in place)."""
    location = resolve_artifact_location(uri, tracking_uri)
    local = _local_path(location)
    if local is not None:
        if not os.path.exists(local):
            raise NotFound(f"No such model or artifact: {uri!r} (looked in {local!r}).")
        return os.path.abspath(local)
    if location.startswith("runs:"):
        run_id, path = _split_runs_uri(location)
        try:
            return str(_client(tracking_uri).download_artifacts(run_id, path, dst_path))
        except NotFound:
            raise NotFound(
                f"Failed to download artifacts from path '{path}', please ensure that the "
                "path is correct."
            ) from None
    from mltrail.artifacts import get_artifact_repository

    repo = get_artifact_repository(location, _client(tracking_uri).tracking_uri)
    return str(repo.download_artifacts("", dst_path))
