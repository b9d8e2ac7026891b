"""The artifact proxy: /api/2.0/mlflow-artifacts/artifacts/... (to be built)."""

from fastapi import APIRouter

router = APIRouter()
