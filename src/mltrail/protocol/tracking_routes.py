"""The tracking REST routes (MLflow REST API 2.0): experiments, runs, metrics, the artifact
listing and MLflow 3's logged models. Paths are relative to ``/api/2.0/mlflow``."""

from __future__ import annotations

from mltrail.protocol.route import Permission, Route

# Who may call a route, beside its path: READ / EDIT / MANAGE on the experiment that the
# request's run, experiment or logged model belongs to; "server" USE: any signed-in user.
# Routes without one here (creates, searches over many experiments, lookups by name) have
# their rule in ``mltrail.server.auth.rules``.
_RUN_READ = Permission("run", "READ", "run_id")
_RUN_EDIT = Permission("run", "EDIT", "run_id")
_RUN_MANAGE = Permission("run", "MANAGE", "run_id")
_EXP_READ = Permission("experiment", "READ", "experiment_id")
_EXP_EDIT = Permission("experiment", "EDIT", "experiment_id")
_EXP_MANAGE = Permission("experiment", "MANAGE", "experiment_id")
_MODEL_READ = Permission("logged_model", "READ", "model_id")
_MODEL_EDIT = Permission("logged_model", "EDIT", "model_id")
_MODEL_MANAGE = Permission("logged_model", "MANAGE", "model_id")
_ANY_USER = Permission("server", "USE")

PAGE = ("next_page_token",)

# -- experiments ------------------------------------------------------------------------------
CREATE_EXPERIMENT = Route(
    "POST", "/experiments/create", request="ExperimentCreateIn", response=("experiment_id",)
)
GET_EXPERIMENT = Route(
    "GET",
    "/experiments/get",
    request="ExperimentIdIn",
    response=("experiment",),
    permission=_EXP_READ,
)
GET_EXPERIMENT_BY_NAME = Route(
    "GET", "/experiments/get-by-name", request="ExperimentByNameIn", response=("experiment",)
)
SEARCH_EXPERIMENTS = Route(
    "POST",
    "/experiments/search",
    request="ExperimentSearchIn",
    response=("experiments", *PAGE),
    permission=_ANY_USER,
)
SEARCH_EXPERIMENTS_GET = Route(
    "GET",
    "/experiments/search",
    request="ExperimentSearchIn",
    response=("experiments", *PAGE),
    permission=_ANY_USER,
)
DELETE_EXPERIMENT = Route(
    "POST", "/experiments/delete", request="ExperimentIdIn", permission=_EXP_MANAGE
)
RESTORE_EXPERIMENT = Route(
    "POST", "/experiments/restore", request="ExperimentIdIn", permission=_EXP_MANAGE
)
UPDATE_EXPERIMENT = Route(
    "POST", "/experiments/update", request="ExperimentUpdateIn", permission=_EXP_EDIT
)
SET_EXPERIMENT_TAG = Route(
    "POST", "/experiments/set-experiment-tag", request="ExperimentSetTagIn", permission=_EXP_EDIT
)
DELETE_EXPERIMENT_TAG = Route(
    "POST",
    "/experiments/delete-experiment-tag",
    request="ExperimentDeleteTagIn",
    permission=_EXP_EDIT,
)

# -- runs ---------------------------------------------------------------------------------------
CREATE_RUN = Route("POST", "/runs/create", request="RunCreateIn", response=("run",))
UPDATE_RUN = Route(
    "POST", "/runs/update", request="RunUpdateIn", response=("run_info",), permission=_RUN_EDIT
)
DELETE_RUN = Route("POST", "/runs/delete", request="RunRef", permission=_RUN_MANAGE)
RESTORE_RUN = Route("POST", "/runs/restore", request="RunRef", permission=_RUN_MANAGE)
GET_RUN = Route("GET", "/runs/get", request="RunRef", response=("run",), permission=_RUN_READ)
LOG_METRIC = Route("POST", "/runs/log-metric", request="LogMetricIn", permission=_RUN_EDIT)
LOG_PARAM = Route("POST", "/runs/log-parameter", request="LogParamIn", permission=_RUN_EDIT)
SET_TAG = Route("POST", "/runs/set-tag", request="SetTagIn", permission=_RUN_EDIT)
DELETE_TAG = Route("POST", "/runs/delete-tag", request="DeleteTagIn", permission=_RUN_EDIT)
LOG_BATCH = Route("POST", "/runs/log-batch", request="LogBatchIn", permission=_RUN_EDIT)
LOG_INPUTS = Route("POST", "/runs/log-inputs", request="LogInputsIn", permission=_RUN_EDIT)
LOG_OUTPUTS = Route("POST", "/runs/outputs", request="LogOutputsIn", permission=_RUN_EDIT)
# mltrail's extension: a client's "this run's process is alive" (renews the run's lease).
RUN_HEARTBEAT = Route("POST", "/runs/heartbeat", request="RunRef", permission=_RUN_EDIT)
SEARCH_RUNS = Route("POST", "/runs/search", request="RunSearchIn", response=("runs", *PAGE))

# -- metrics ------------------------------------------------------------------------------------
GET_METRIC_HISTORY = Route(
    "GET",
    "/metrics/get-history",
    request="HistoryIn",
    response=("metrics", *PAGE),
    permission=_RUN_READ,
)
GET_METRIC_HISTORY_BULK_INTERVAL = Route(
    "GET", "/metrics/get-history-bulk-interval", request="BulkIntervalIn", response=("metrics",)
)
GET_METRIC_HISTORY_BULK = Route(
    "GET", "/metrics/get-history-bulk", request="BulkIn", response=("metrics",)
)

# -- artifacts of a run (listing; the files themselves go through the proxy) -------------------
LIST_ARTIFACTS = Route(
    "GET",
    "/artifacts/list",
    request="ArtifactListIn",
    response=("root_uri", "files", *PAGE),
    permission=_RUN_READ,
)

# -- logged models (MLflow 3) -----------------------------------------------------------------
MODEL = "/logged-models/{model_id}"
SEARCH_LOGGED_MODELS = Route(
    "POST", "/logged-models/search", request="SearchIn", response=("models", *PAGE)
)
CREATE_LOGGED_MODEL = Route(
    "POST", "/logged-models", request="CreateIn", response=("model",), permission=_EXP_EDIT
)
GET_LOGGED_MODEL = Route("GET", MODEL, request="GetIn", response=("model",), permission=_MODEL_READ)
FINALIZE_LOGGED_MODEL = Route(
    "PATCH", MODEL, request="FinalizeIn", response=("model",), permission=_MODEL_EDIT
)
DELETE_LOGGED_MODEL = Route("DELETE", MODEL, request="ModelRefIn", permission=_MODEL_MANAGE)
SET_LOGGED_MODEL_TAGS = Route("PATCH", MODEL + "/tags", request="SetTagsIn", permission=_MODEL_EDIT)
DELETE_LOGGED_MODEL_TAG = Route("DELETE", MODEL + "/tags/{tag_key:path}", permission=_MODEL_EDIT)
LOG_LOGGED_MODEL_PARAMS = Route(
    "POST", MODEL + "/params", request="LogParamsIn", permission=_MODEL_EDIT
)
LIST_LOGGED_MODEL_ARTIFACTS = Route(
    "GET",
    MODEL + "/artifacts/directories",
    request="DirectoriesIn",
    response=("files", *PAGE),
    permission=_MODEL_READ,
)
GET_LOGGED_MODEL_ARTIFACT = Route(
    "GET", MODEL + "/artifacts/files", request="FilesIn", permission=_MODEL_READ
)

# The busiest first: the server mounts them in this order, and a router tries routes in order.
ROUTES: tuple[Route, ...] = (
    LOG_BATCH, SEARCH_RUNS, CREATE_RUN, UPDATE_RUN, GET_RUN, LOG_METRIC, LOG_PARAM, SET_TAG,
    DELETE_TAG, DELETE_RUN, RESTORE_RUN, LOG_INPUTS, RUN_HEARTBEAT,
    GET_METRIC_HISTORY, GET_METRIC_HISTORY_BULK_INTERVAL, GET_METRIC_HISTORY_BULK,
    CREATE_EXPERIMENT, GET_EXPERIMENT, GET_EXPERIMENT_BY_NAME, SEARCH_EXPERIMENTS,
    SEARCH_EXPERIMENTS_GET, DELETE_EXPERIMENT, RESTORE_EXPERIMENT, UPDATE_EXPERIMENT,
    SET_EXPERIMENT_TAG, DELETE_EXPERIMENT_TAG,
    LIST_ARTIFACTS,
    SEARCH_LOGGED_MODELS, CREATE_LOGGED_MODEL, GET_LOGGED_MODEL, FINALIZE_LOGGED_MODEL,
    DELETE_LOGGED_MODEL, SET_LOGGED_MODEL_TAGS, DELETE_LOGGED_MODEL_TAG, LOG_LOGGED_MODEL_PARAMS,
    LIST_LOGGED_MODEL_ARTIFACTS, GET_LOGGED_MODEL_ARTIFACT, LOG_OUTPUTS,
)  # fmt: skip
