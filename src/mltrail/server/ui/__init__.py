"""The web UI: server-rendered Jinja2 pages, small vanilla ES modules, and the JSON routes
(``/ajax-api/ui/...``) those modules call. Pages and their JSON twins share one function
that builds plain data from the tracking store; nothing here calls the HTTP API."""

from fastapi import APIRouter

from mltrail.server.ui import (
    artifacts_ui,
    charts,
    compare,
    experiments,
    model_views,
    models_page,
    run_actions,
    run_page,
    runs,
    static_files,
)

router = APIRouter()
for _module in (
    static_files,
    experiments,
    runs,
    run_page,
    run_actions,
    charts,
    artifacts_ui,
    compare,
    model_views,
    models_page,
):
    router.include_router(_module.router)

__all__ = ["router"]
