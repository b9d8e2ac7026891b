"""The loader of models from code (``loader_module: mlflow.pyfunc.loaders.code_model``)."""

from __future__ import annotations

from typing import Any

from mltrail.pyfunc.model import _load_pyfunc as _load_python_model


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """Run the model's file for its model (see ``mltrail.models.code_model``)."""
    return _load_python_model(model_path, model_config)
