"""MLflow-compatible JSON routes, mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.

One module per resource; ``wire`` holds the JSON conventions they share. The ``/ajax-api``
copy (what MLflow's web UI calls) is left out of the OpenAPI document to keep it readable.
"""

from fastapi import APIRouter

from mltrail.server.api import (
    artifacts,
    experiments,
    logged_models,
    meta,
    metrics,
    registry,
    runs,
    webhooks,
)

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"

# The router tries routes in order, one by one (about 1.5 us each, twice per request): the
# busiest resources come first, and every /api route before the /ajax-api copies.
_RESOURCES = (
    runs.router,
    metrics.router,
    experiments.router,
    artifacts.router,
    logged_models.router,
    registry.router,
    webhooks.router,
)
router = APIRouter()
router.include_router(meta.router)
router.include_router(registry.root_router)
for _resource in _RESOURCES:
    router.include_router(_resource, prefix=API_PREFIX)
for _resource in _RESOURCES:
    router.include_router(_resource, prefix=AJAX_PREFIX, include_in_schema=False)

__all__ = ["AJAX_PREFIX", "API_PREFIX", "router"]
