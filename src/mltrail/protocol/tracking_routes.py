"""The tracking REST routes (MLflow REST API 2.0): experiments, runs, metrics, the artifact
listing and MLflow 3's logged models. Paths are relative to ``/api/2.0/mlflow``."""

from __future__ import annotations

from mltrail.protocol.route import Route

PAGE = ("next_page_token",)

# -- experiments ------------------------------------------------------------------------------
CREATE_EXPERIMENT = Route(
    "POST", "/experiments/create", request="ExperimentCreateIn", response=("experiment_id",)
)
GET_EXPERIMENT = Route(
    "GET", "/experiments/get", request="ExperimentIdIn", response=("experiment",)
)
GET_EXPERIMENT_BY_NAME = Route(
    "GET", "/experiments/get-by-name", request="ExperimentByNameIn", response=("experiment",)
)
SEARCH_EXPERIMENTS = Route(
    "POST", "/experiments/search", request="ExperimentSearchIn", response=("experiments", *PAGE)
)
SEARCH_EXPERIMENTS_GET = Route(
    "GET", "/experiments/search", request="ExperimentSearchIn", response=("experiments", *PAGE)
)
DELETE_EXPERIMENT = Route("POST", "/experiments/delete", request="ExperimentIdIn")
RESTORE_EXPERIMENT = Route("POST", "/experiments/restore", request="ExperimentIdIn")
UPDATE_EXPERIMENT = Route("POST", "/experiments/update", request="ExperimentUpdateIn")
SET_EXPERIMENT_TAG = Route("POST", "/experiments/set-experiment-tag", request="ExperimentSetTagIn")
DELETE_EXPERIMENT_TAG = Route(
    "POST", "/experiments/delete-experiment-tag", request="ExperimentDeleteTagIn"
)

# -- runs ---------------------------------------------------------------------------------------
CREATE_RUN = Route("POST", "/runs/create", request="RunCreateIn", response=("run",))
UPDATE_RUN = Route("POST", "/runs/update", request="RunUpdateIn", response=("run_info",))
DELETE_RUN = Route("POST", "/runs/delete", request="RunRef")
RESTORE_RUN = Route("POST", "/runs/restore", request="RunRef")
GET_RUN = Route("GET", "/runs/get", request="RunRef", response=("run",))
LOG_METRIC = Route("POST", "/runs/log-metric", request="LogMetricIn")
LOG_PARAM = Route("POST", "/runs/log-parameter", request="LogParamIn")
SET_TAG = Route("POST", "/runs/set-tag", request="SetTagIn")
DELETE_TAG = Route("POST", "/runs/delete-tag", request="DeleteTagIn")
LOG_BATCH = Route("POST", "/runs/log-batch", request="LogBatchIn")
LOG_INPUTS = Route("POST", "/runs/log-inputs", request="LogInputsIn")
LOG_OUTPUTS = Route("POST", "/runs/outputs", request="LogOutputsIn")
# mltrail's extension: a client's "this run's process is alive" (renews the run's lease).
RUN_HEARTBEAT = Route("POST", "/runs/heartbeat", request="RunRef")
SEARCH_RUNS = Route("POST", "/runs/search", request="RunSearchIn", response=("runs", *PAGE))

# -- metrics ------------------------------------------------------------------------------------
GET_METRIC_HISTORY = Route(
    "GET", "/metrics/get-history", request="HistoryIn", response=("metrics", *PAGE)
)
GET_METRIC_HISTORY_BULK_INTERVAL = Route(
    "GET", "/metrics/get-history-bulk-interval", request="BulkIntervalIn", response=("metrics",)
)
GET_METRIC_HISTORY_BULK = Route(
    "GET", "/metrics/get-history-bulk", request="BulkIn", response=("metrics",)
)

# -- artifacts of a run (listing; the files themselves go through the proxy) -------------------
LIST_ARTIFACTS = Route(
    "GET", "/artifacts/list", request="ArtifactListIn", response=("root_uri", "files", *PAGE)
)

# -- logged models (MLflow 3) -----------------------------------------------------------------
MODEL = "/logged-models/{model_id}"
SEARCH_LOGGED_MODELS = Route(
    "POST", "/logged-models/search", request="SearchIn", response=("models", *PAGE)
)
CREATE_LOGGED_MODEL = Route("POST", "/logged-models", request="CreateIn", response=("model",))
GET_LOGGED_MODEL = Route("GET", MODEL, request="GetIn", response=("model",))
FINALIZE_LOGGED_MODEL = Route("PATCH", MODEL, request="FinalizeIn", response=("model",))
DELETE_LOGGED_MODEL = Route("DELETE", MODEL, request="ModelRefIn")
SET_LOGGED_MODEL_TAGS = Route("PATCH", MODEL + "/tags", request="SetTagsIn")
DELETE_LOGGED_MODEL_TAG = Route("DELETE", MODEL + "/tags/{tag_key:path}")
LOG_LOGGED_MODEL_PARAMS = Route("POST", MODEL + "/params", request="LogParamsIn")
LIST_LOGGED_MODEL_ARTIFACTS = Route(
    "GET", MODEL + "/artifacts/directories", request="DirectoriesIn", response=("files", *PAGE)
)
GET_LOGGED_MODEL_ARTIFACT = Route("GET", MODEL + "/artifacts/files", request="FilesIn")

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
