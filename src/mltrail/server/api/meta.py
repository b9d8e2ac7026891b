"""Server information: health, version, server-info."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from mltrail.server.api.encode import reply
from mltrail.version import __version__

router = APIRouter(tags=["server"])

SERVER_INFO = {
    "store_type": "SqlStore",
    "workspaces_enabled": False,
    "trace_archival_enabled": False,
    "multipart_uploads_enabled": False,
    "multipart_downloads_enabled": False,
    "presigned_upload_run_id_supported": False,
    "presigned_upload_model_id_supported": False,
    "features_enabled": {"gateway": False},
}


@router.get("/health", response_class=PlainTextResponse)
async def health() -> str:
    return "OK"


@router.get("/version", response_class=PlainTextResponse)
async def version() -> str:
    return __version__


@router.get("/api/3.0/mlflow/server-info")
@router.get("/ajax-api/3.0/mlflow/server-info", include_in_schema=False)
async def server_info() -> Response:
    return reply(SERVER_INFO)
