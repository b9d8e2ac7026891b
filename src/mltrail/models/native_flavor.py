"""What the gradient-boosting flavors (``mltrail.xgboost``, ``mltrail.lightgbm``) share: the
optional library imported on demand, the saved class path, the flavor's configuration read from
``MLmodel``, and the pyfunc wrapper around the loaded model."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from mltrail.exceptions import MltrailException, NotFound
from mltrail.models.model import Model


def import_library(module: str, pip_name: str) -> Any:
    """``module`` imported, or one clear error naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MltrailException(
            f"This model needs {pip_name}: pip install {pip_name} (or mltrail[{pip_name}]).",
            error_code="RESOURCE_DOES_NOT_EXIST",
        ) from None


def class_path(model: Any) -> str:
    """``module.QualifiedName`` of the model's class, as written to the flavor."""
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"


def flavor_conf(path: str, flavor_name: str) -> dict[str, Any]:
    """The ``flavor_name`` section of the ``MLmodel`` in the model directory ``path``."""
    conf = Model.load(path).flavors.get(flavor_name)
    if conf is None:
        raise NotFound(f'Model does not have the "{flavor_name}" flavor')
    return dict(conf)


def model_root(path: str) -> str:
    """The model directory, from what pyfunc passes a loader (the directory or its data file)."""
    return path if os.path.isdir(path) else os.path.dirname(path)


class NativeModelWrapper:
    """The pyfunc face of a natively saved model: ``predict`` through ``predict_fn`` (the
    model's own ``predict`` by default) and ``get_raw_model``."""

    def __init__(self, model: Any, predict_fn: Callable[[Any, Any], Any] | None = None) -> None:
        self.model = model
        self._predict_fn = predict_fn

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._predict_fn is not None:
            return self._predict_fn(self.model, data)
        return self.model.predict(data)

    def get_raw_model(self) -> Any:
        return self.model
