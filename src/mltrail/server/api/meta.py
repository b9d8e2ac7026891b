"""Server information: health, version, server-info."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from mltrail.server.api.encode import reply
from mltrail.version import MLFLOW_API_VERSION, __version__

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
    "mltrail_version": __version__,
    "mlflow_api_version": MLFLOW_API_VERSION,
}


@router.get("/health", response_class=PlainTextResponse)
async def health() -> str:
    return "OK"


@router.get("/version", response_class=PlainTextResponse)
async def version() -> str:
    """The MLflow version whose API this server implements (the ``mlflow`` client enables
    features by it); mltrail's own version is in server-info and every answer's headers."""
    return MLFLOW_API_VERSION


@router.get("/api/3.0/mlflow/server-info")
@router.get("/ajax-api/3.0/mlflow/server-info", include_in_schema=False)
async def server_info() -> Response:
    return reply(SERVER_INFO)
