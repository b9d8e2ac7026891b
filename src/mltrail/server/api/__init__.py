"""MLflow-compatible JSON routes under /api/2.0/mlflow and /ajax-api/2.0/mlflow."""

from fastapi import APIRouter

router = APIRouter()
