"""Server information (health, version, server-info) and the routes not built yet.

The MLflow 3 client calls LoggedModel routes from ``log_model``; until the model registry
lands they answer a clear 501 in MLflow's error shape instead of an HTML 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from mltrail.exceptions import MltrailException
from mltrail.server.api.encode import reply
from mltrail.version import __version__

router = APIRouter(tags=["server"])
later = APIRouter(include_in_schema=False)

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


_ANY = ["GET", "POST", "PATCH", "DELETE", "PUT"]


@later.api_route("/logged-models", methods=_ANY)
@later.api_route("/logged-models/{rest:path}", methods=_ANY)
@later.api_route("/runs/outputs", methods=_ANY)
async def not_implemented(request: Request) -> Response:
    raise MltrailException(
        f"{request.url.path} is not implemented by this mltrail server yet: logged models "
        "arrive with the model registry. Log models as run artifacts for now.",
        error_code="NOT_IMPLEMENTED",
    )
