"""The server's other routes: health and version, the artifact proxy (MLflow's
``/api/2.0/mlflow-artifacts``, which ``HttpArtifactRepository`` calls) and the web UI's pages
and JSON routes."""

from __future__ import annotations

from mltrail.protocol.route import ARTIFACTS, MLFLOW_3, ROOT, HttpMethod, Route

# -- meta ---------------------------------------------------------------------------------------
HEALTH = Route("GET", "/health", prefix=ROOT, ajax=False)
VERSION = Route("GET", "/version", prefix=ROOT, ajax=False)
SERVER_INFO = Route("GET", "/server-info", prefix=MLFLOW_3, response=("store_type",))

META_ROUTES: tuple[Route, ...] = (HEALTH, VERSION, SERVER_INFO)

# -- artifact proxy -------------------------------------------------------------------------------
FILE = "/artifacts/{path:path}"
UPLOAD_ARTIFACT = Route("PUT", FILE, prefix=ARTIFACTS)
DOWNLOAD_ARTIFACT = Route("GET", FILE, prefix=ARTIFACTS)
LIST_PROXIED_ARTIFACTS = Route("GET", "/artifacts", prefix=ARTIFACTS, response=("files",))
DELETE_ARTIFACT = Route("DELETE", FILE, prefix=ARTIFACTS)
CREATE_MULTIPART_UPLOAD = Route(
    "POST", "/mpu/create/{path:path}", prefix=ARTIFACTS, response=("upload_id", "credentials")
)
UPLOAD_PART = Route("PUT", "/mpu/part/{upload_id}/{part_number}", prefix=ARTIFACTS, ajax=False)
COMPLETE_MULTIPART_UPLOAD = Route("POST", "/mpu/complete/{path:path}", prefix=ARTIFACTS)
ABORT_MULTIPART_UPLOAD = Route("POST", "/mpu/abort/{path:path}", prefix=ARTIFACTS)
PRESIGNED_DOWNLOAD = Route("GET", "/presigned/{path:path}", prefix=ARTIFACTS)
# The web UI's download link: a file by its run and its path among the run's artifacts.
GET_RUN_ARTIFACT = Route("GET", "/get-artifact", prefix=ROOT, ajax=False)

ARTIFACT_ROUTES: tuple[Route, ...] = (
    UPLOAD_ARTIFACT,
    DOWNLOAD_ARTIFACT,
    LIST_PROXIED_ARTIFACTS,
    DELETE_ARTIFACT,
    CREATE_MULTIPART_UPLOAD,
    UPLOAD_PART,
    COMPLETE_MULTIPART_UPLOAD,
    ABORT_MULTIPART_UPLOAD,
    PRESIGNED_DOWNLOAD,
    GET_RUN_ARTIFACT,
)


# -- web UI (pages, and the /ajax-api/ui JSON routes their scripts call) ------------------------
def _ui(method: HttpMethod, path: str) -> Route:
    return Route(method, path, prefix=ROOT, ajax=False, in_schema=False)


UI_ROUTES: tuple[Route, ...] = (
    _ui("GET", "/ui/static/plotly.min.js"),
    _ui("GET", "/ui/static/{name}"),
    _ui("GET", "/"),
    _ui("GET", "/ajax-api/ui/experiments"),
    _ui("POST", "/ajax-api/ui/experiments/create"),
    _ui("POST", "/ajax-api/ui/experiments/rename"),
    _ui("POST", "/ajax-api/ui/experiments/delete"),
    _ui("POST", "/ajax-api/ui/experiments/restore"),
    _ui("GET", "/experiments/{experiment_ids}"),
    _ui("GET", "/ajax-api/ui/runs"),
    _ui("GET", "/runs/{run_id}"),
    _ui("GET", "/ajax-api/ui/runs/{run_id}"),
    _ui("GET", "/ajax-api/ui/runs/{run_id}/summary"),
    _ui("POST", "/ajax-api/ui/runs/delete"),
    _ui("POST", "/ajax-api/ui/runs/restore"),
    _ui("POST", "/ajax-api/ui/runs/set-tag"),
    _ui("POST", "/ajax-api/ui/runs/delete-tag"),
    _ui("POST", "/ajax-api/ui/runs/rename"),
    _ui("POST", "/ajax-api/ui/runs/note"),
    _ui("GET", "/ajax-api/ui/metric-history"),
    _ui("GET", "/ajax-api/ui/artifacts"),
    _ui("GET", "/ajax-api/ui/artifacts/preview"),
    _ui("GET", "/ui/artifacts/{run_id}/raw"),
    _ui("GET", "/ui/artifacts/{run_id}/zip"),
    _ui("GET", "/compare"),
    _ui("GET", "/ajax-api/ui/compare"),
    _ui("GET", "/models"),
    _ui("GET", "/experiments/{experiment_id}/models"),
    _ui("GET", "/ajax-api/ui/experiments/{experiment_id}/models"),
)
