"""The web UI: server-rendered pages (to be built)."""

from fastapi import APIRouter

router = APIRouter()
