"""The names of MLflow's system tags, for code that imports them from
``mlflow.utils.mlflow_tags`` (``from mltrail.utils.mlflow_tags import MLFLOW_RUN_NAME``).

Only names: what a tag means is documented where mltrail sets or reads it.
"""

from __future__ import annotations

# -- runs: who, what, from where -------------------------------------------------------------
MLFLOW_RUN_NAME = "mlflow.runName"
MLFLOW_RUN_NOTE = "mlflow.note.content"
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"
MLFLOW_USER = "mlflow.user"
MLFLOW_SOURCE_TYPE = "mlflow.source.type"
MLFLOW_SOURCE_NAME = "mlflow.source.name"
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"
MLFLOW_GIT_BRANCH = "mlflow.source.git.branch"
MLFLOW_GIT_DIRTY = "mlflow.source.git.dirty"
MLFLOW_GIT_REPO_URL = "mlflow.source.git.repoURL"
MLFLOW_GIT_DIFF = "mlflow.source.git.diff"
MLFLOW_RUN_SOURCE_TYPE = "mlflow.runSourceType"
MLFLOW_RUN_TYPE = "mlflow.runType"
MLFLOW_ARTIFACT_LOCATION = "mlflow.artifactLocation"

# -- what a run logged --------------------------------------------------------------------------
MLFLOW_LOGGED_MODELS = "mlflow.log-model.history"
MLFLOW_MODEL_IS_EXTERNAL = "mlflow.model.isExternal"
MLFLOW_MODEL_VERSIONS = "mlflow.modelVersions"
MLFLOW_AUTOLOGGING = "mlflow.autologging"
MLFLOW_LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"
MLFLOW_LOGGED_IMAGES = "mlflow.loggedImages"
MLFLOW_DATASET_CONTEXT = "mlflow.data.context"

# -- projects -----------------------------------------------------------------------------------
MLFLOW_PROJECT_ENV = "mlflow.project.env"
MLFLOW_PROJECT_ENTRY_POINT = "mlflow.project.entryPoint"
MLFLOW_PROJECT_BACKEND = "mlflow.project.backend"
MLFLOW_DOCKER_IMAGE_URI = "mlflow.docker.image.uri"
MLFLOW_DOCKER_IMAGE_ID = "mlflow.docker.image.id"

# -- experiments --------------------------------------------------------------------------------
MLFLOW_EXPERIMENT_SOURCE_ID = "mlflow.experiment.sourceId"
MLFLOW_EXPERIMENT_SOURCE_TYPE = "mlflow.experiment.sourceType"
MLFLOW_EXPERIMENT_PRIMARY_METRIC_NAME = "mlflow.experiment.primaryMetric.name"
MLFLOW_EXPERIMENT_PRIMARY_METRIC_GREATER_IS_BETTER = (
    "mlflow.experiment.primaryMetric.greaterIsBetter"
)

# -- Databricks (set by code that runs there; kept so that imports of them work) ----------------
MLFLOW_DATABRICKS_NOTEBOOK_ID = "mlflow.databricks.notebookID"
MLFLOW_DATABRICKS_NOTEBOOK_PATH = "mlflow.databricks.notebookPath"
MLFLOW_DATABRICKS_WEBAPP_URL = "mlflow.databricks.webappURL"
MLFLOW_DATABRICKS_RUN_URL = "mlflow.databricks.runURL"
MLFLOW_DATABRICKS_CLUSTER_ID = "mlflow.databricks.cluster.id"
MLFLOW_DATABRICKS_WORKSPACE_URL = "mlflow.databricks.workspaceURL"
MLFLOW_DATABRICKS_WORKSPACE_ID = "mlflow.databricks.workspaceID"
MLFLOW_DATABRICKS_JOB_ID = "mlflow.databricks.jobID"
MLFLOW_DATABRICKS_JOB_RUN_ID = "mlflow.databricks.jobRunID"
MLFLOW_DATABRICKS_JOB_TYPE = "mlflow.databricks.jobType"
