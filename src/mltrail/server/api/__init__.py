"""MLflow-compatible JSON routes, mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.

One module per resource; ``wire`` holds the JSON conventions they share. The ``/ajax-api``
copy (what MLflow's web UI calls) is left out of the OpenAPI document to keep it readable.
"""

from fastapi import APIRouter

from mltrail.server.api import artifacts, experiments, logged_models, meta, metrics, runs

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"

router = APIRouter()
router.include_router(meta.router)
for _resource in (
    experiments.router,
    runs.router,
    metrics.router,
    artifacts.router,
    logged_models.router,
):
    router.include_router(_resource, prefix=API_PREFIX)
    router.include_router(_resource, prefix=AJAX_PREFIX, include_in_schema=False)

__all__ = ["AJAX_PREFIX", "API_PREFIX", "router"]
