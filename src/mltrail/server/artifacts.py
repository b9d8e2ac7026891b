"""The artifact proxy: MLflow's ``/api/2.0/mlflow-artifacts`` routes (with ``/ajax-api`` twins)
and the UI's ``/get-artifact``, over ``settings.artifacts_destination`` (a folder or S3).

Every path goes through ``safe_relative_path`` before anything is touched, and the storage
layer checks containment again (symlinks included). Errors are MLflow's JSON bodies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.protocol import Route, server_routes
from mltrail.protocol.route import ARTIFACTS
from mltrail.server import artifact_io, artifact_mpu
from mltrail.server.api.mount import serve_at_full_path
from mltrail.server.security import BodyTooLarge
from mltrail.store.artifact import get_artifact_repository
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.paths import join, safe_relative_path

API = ARTIFACTS


class ArtifactsDisabled(Exception):
    """The server runs without artifact serving."""


class _ErrorRoute(APIRoute):
    """Render mltrail errors as MLflow's ``{"error_code", "message"}`` bodies right here, so the
    proxy answers correctly whatever exception handlers the app installs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ArtifactsDisabled:
                return PlainTextResponse(
                    f"Endpoint: {request.url.path} disabled: the server runs without artifact "
                    "serving (start it with --serve-artifacts).",
                    status_code=503,
                )
            except MltrailException as exc:
                return JSONResponse(exc.to_dict(), status_code=exc.get_http_status_code())

        return handle


router = APIRouter(route_class=_ErrorRoute)


def _serving(request: Request) -> ArtifactRepository:
    if not request.app.state.settings.serve_artifacts:
        raise ArtifactsDisabled()
    return artifact_io.destination(request)


def checked_path(path: str | None) -> str:
    """The one gate for paths from requests: 400 "Invalid path" before any side effect."""
    try:
        rel = safe_relative_path(path)
    except InvalidParameter:
        raise InvalidParameter(f"Invalid path {path!r}.") from None
    # ".upload-*" names are the proxy's own in-flight files; nobody may address them.
    if any(part.startswith(".upload-") for part in rel.split("/")):
        raise InvalidParameter(f"Invalid path {path!r}.")
    return rel


async def _json(request: Request) -> dict[str, Any]:
    limit = request.app.state.settings.max_body_bytes
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BodyTooLarge(limit)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidParameter("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.")
    return body


def _route(route: Route) -> Callable[[Any], Any]:
    """Register one endpoint under /api and, as MLflow does, /ajax-api."""
    return serve_at_full_path(router, route, tags=["artifact proxy"])


# -- files -------------------------------------------------------------------------------------
@_route(server_routes.UPLOAD_ARTIFACT)
async def upload_artifact(request: Request, path: str) -> Response:
    """Store the raw request body as the file at ``path`` (streamed; replaced atomically)."""
    repo = _serving(request)
    rel = checked_path(path)
    await artifact_io.store_upload(repo, rel, request)
    return JSONResponse({})


@_route(server_routes.DOWNLOAD_ARTIFACT)
async def download_artifact(request: Request, path: str) -> Response:
    """The file at ``path``, streamed as an attachment."""
    repo = _serving(request)
    rel = checked_path(path)
    return await run_in_threadpool(artifact_io.download_response, repo, rel)


@_route(server_routes.LIST_PROXIED_ARTIFACTS)
async def list_artifacts(request: Request, path: str | None = None) -> Response:
    """Direct children of the folder ``path`` (the root when absent), by base name."""
    repo = _serving(request)
    rel = checked_path(path)
    return JSONResponse(await run_in_threadpool(artifact_io.listing, repo, rel))


@_route(server_routes.DELETE_ARTIFACT)
async def delete_artifact(request: Request, path: str) -> Response:
    """Delete a file, or a folder and everything in it."""
    repo = _serving(request)
    rel = checked_path(path)
    if not rel:
        raise InvalidParameter("Refusing to delete the whole artifact store: name a path.")
    await run_in_threadpool(repo.delete_artifacts, rel)
    return JSONResponse({})


# -- multipart uploads -------------------------------------------------------------------------
@_route(server_routes.CREATE_MULTIPART_UPLOAD)
async def create_multipart_upload(request: Request, path: str) -> Response:
    """Start a multipart upload of ``path``/(file name of ``body.path``): one URL per part."""
    repo = _serving(request)
    rel_dir = checked_path(path)
    body = await _json(request)
    rel = checked_path(join(rel_dir, artifact_mpu.file_name(body.get("path"))))
    part_url = str(request.base_url).rstrip("/") + API + "/mpu/part"
    answer = await run_in_threadpool(
        artifact_mpu.create, repo, rel, body.get("num_parts", 1), part_url
    )
    return JSONResponse(answer)


@_route(server_routes.UPLOAD_PART)
async def upload_part(request: Request, upload_id: str, part_number: int) -> Response:
    """One part of a multipart upload to a local destination; answers its ETag."""
    repo = _serving(request)
    sink = await run_in_threadpool(artifact_mpu.open_part, repo, upload_id, part_number)
    await artifact_io.receive(sink, request.stream())
    return Response(status_code=200, headers={"ETag": sink.etag})


@_route(server_routes.COMPLETE_MULTIPART_UPLOAD)
async def complete_multipart_upload(request: Request, path: str) -> Response:
    """Join the uploaded parts into the final file."""
    repo = _serving(request)
    rel_dir = checked_path(path)
    body = await _json(request)
    rel = checked_path(join(rel_dir, artifact_mpu.file_name(body.get("path"))))
    upload_id = body.get("upload_id")
    await run_in_threadpool(artifact_mpu.complete, repo, rel, upload_id, body.get("parts"))
    return JSONResponse({})


@_route(server_routes.ABORT_MULTIPART_UPLOAD)
async def abort_multipart_upload(request: Request, path: str) -> Response:
    """Drop a multipart upload and its parts."""
    repo = _serving(request)
    rel_dir = checked_path(path)
    body = await _json(request)
    rel = checked_path(join(rel_dir, artifact_mpu.file_name(body.get("path"))))
    await run_in_threadpool(artifact_mpu.abort, repo, rel, body.get("upload_id"))
    return JSONResponse({})


@_route(server_routes.PRESIGNED_DOWNLOAD)
async def presigned_download(request: Request, path: str) -> Response:
    """A presigned URL for ranged, parallel downloads (S3 destinations only; else 501)."""
    repo = _serving(request)
    rel = checked_path(path)
    return JSONResponse(await run_in_threadpool(artifact_mpu.presigned_get, repo, rel))


# -- the UI's download link --------------------------------------------------------------------
@_route(server_routes.GET_RUN_ARTIFACT)
async def get_run_artifact(
    request: Request,
    path: str | None = None,
    run_uuid: str | None = None,
    run_id: str | None = None,
) -> Response:
    """A file of a run, by its path among the run's artifacts (the web UI's download link)."""
    rel = checked_path(path)
    if not rel:
        raise InvalidParameter("Missing value for required parameter 'path'.")
    wanted = run_id or run_uuid
    if not wanted:
        raise InvalidParameter("Missing value for required parameter 'run_id'.")
    run = await run_in_threadpool(request.app.state.store.get_run, wanted)
    repo, root = _run_location(request, run.info.artifact_uri)
    return await run_in_threadpool(artifact_io.download_response, repo, join(root, rel))


def proxied_path(uri: str) -> str | None:
    """The destination-relative path a proxied artifact URI stands for, or ``None`` if the URI
    is not proxied (``mlflow-artifacts:/x`` or ``http(s)://.../mlflow-artifacts/artifacts/x``)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "mlflow-artifacts":
        tail = parts.path
    elif scheme in ("http", "https") and "/mlflow-artifacts/artifacts" in parts.path:
        tail = parts.path.split("/mlflow-artifacts/artifacts", 1)[1]
    else:
        return None
    if parts.query or parts.fragment or ";" in tail:
        raise InvalidParameter(f"Invalid artifact URI {uri!r}.")
    return checked_path(tail.lstrip("/"))


def _run_location(request: Request, artifact_uri: str) -> tuple[ArtifactRepository, str]:
    """Where a run's artifacts are, as (repository, path inside it). The server only reads
    storage it was configured with: its destination, or its default artifact root."""
    rel = proxied_path(artifact_uri)
    if rel is not None:
        return _serving(request), rel
    root = request.app.state.settings.default_artifact_root.rstrip("/")
    root_scheme = urlsplit(root).scheme.lower()
    root_is_proxied = root_scheme == "mlflow-artifacts" or "/mlflow-artifacts/" in root
    if not root_is_proxied and artifact_uri.startswith(root + "/"):
        repo = getattr(request.app.state, "artifact_root_repo", None)
        if repo is None:
            repo = request.app.state.artifact_root_repo = get_artifact_repository(root)
        return repo, checked_path(artifact_uri[len(root) + 1 :])
    raise InvalidParameter(
        "This run's artifacts are not stored by this server; read them from "
        f"{artifact_uri!r} directly."
    )
