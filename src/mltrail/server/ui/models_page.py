"""A placeholder for the model registry pages, so navigation is already where it will be."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mltrail.server.ui.templating import render

router = APIRouter()


@router.get("/models", include_in_schema=False)
def models_page(request: Request) -> Response:
    return render(request, "models.html", {"title": "Models"})
