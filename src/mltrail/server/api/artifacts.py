"""``artifacts/list``: the files of a run, as the tracking service sees them.

A run whose artifact URI is proxied (``mlflow-artifacts:/...``) is listed from this server's
``--artifacts-destination``; any other URI is listed through its own repository.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlparse

from fastapi import APIRouter, Request, Response

from mltrail.exceptions import MltrailException
from mltrail.protocol import tracking_routes as routes
from mltrail.server.api.encode import reply
from mltrail.server.api.mount import serve
from mltrail.server.api.wire import RunRef, Text, call, read_query, store_of
from mltrail.server.locations import ArtifactLocationPolicy
from mltrail.server.settings import ServerSettings
from mltrail.store.artifact import ArtifactRepository, get_artifact_repository
from mltrail.store.artifact.paths import safe_relative_path

router = APIRouter(tags=["artifacts"])

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts/"


class ArtifactListIn(RunRef):
    path: Text | None = None
    page_token: Text | None = None


def proxied_part(uri: str) -> str | None:
    """The path under the artifacts destination that a proxied URI stands for, else None."""
    parsed = urlparse(uri)
    if parsed.scheme == "mlflow-artifacts":
        return safe_relative_path(parsed.path.lstrip("/"))
    if parsed.scheme in ("http", "https") and PROXY_PATH in parsed.path:
        return safe_relative_path(parsed.path.split(PROXY_PATH, 1)[1])
    return None


def repository_for(settings: ServerSettings, artifact_uri: str) -> ArtifactRepository:
    part = proxied_part(artifact_uri)
    if part is None:
        # Checked again where it is used, not only when stored: rows written before the
        # allowlist existed (or by other tools) must not turn a listing into a read of /etc
        # or a request to a metadata address.
        readable = settings.artifact_location_roots() + (settings.artifacts_destination,)
        ArtifactLocationPolicy(readable).check(artifact_uri, "stored artifact location")
        return get_artifact_repository(artifact_uri)
    if not settings.serve_artifacts:
        raise MltrailException(
            f"The artifacts of this run are proxied ({artifact_uri}) but this server runs with "
            "--no-serve-artifacts; restart it with --serve-artifacts to list them.",
            error_code="BAD_REQUEST",
        )
    root = settings.artifacts_destination.rstrip("/")
    return get_artifact_repository(posixpath.join(root, part) if part else root)


def _list(request: Request, query: ArtifactListIn) -> dict[str, object]:
    run = store_of(request).get_run(query.the_run_id())
    repo = repository_for(request.app.state.settings, run.info.artifact_uri)
    files = []
    for f in repo.list_artifacts(query.path or None):
        entry: dict[str, object] = {"path": f.path, "is_dir": f.is_dir}
        if not f.is_dir and f.file_size is not None:
            entry["file_size"] = f.file_size
        files.append(entry)
    out: dict[str, object] = {"root_uri": run.info.artifact_uri}
    if files:
        out["files"] = files
    return out


@serve(router, routes.LIST_ARTIFACTS)
async def list_artifacts(request: Request) -> Response:
    query = await read_query(request, ArtifactListIn)
    return reply(await call(_list, request, query))
