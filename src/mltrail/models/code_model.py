"""Models from code: a Python file that builds a model and hands it over with ``set_model``.

``mltrail.pyfunc.save_model(path, python_model="model.py")`` copies the file into the model
directory (no pickle is written) and loading runs it again, in a module of its own, taking the
model it passes to ``set_model``. Running the file runs its code: load such models only from
sources you trust (like pickles, they are refused when pickle loading is turned off).

The layout is MLflow's (the file at the model's root, its path in ``model_code_path``,
``loader_module: mlflow.pyfunc.loaders.code_model``), so either side loads the other's. A file
written for MLflow (``mlflow.models.set_model``) loads here when mlflow is installed; one
written for mltrail also tells MLflow's own loader about its model when MLflow runs it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException

_MLFLOW_MODULE = "mlflow.models.model"
_MLFLOW_SLOT = "__mlflow_model__"
_current: list[Any] = []  # what the file being run passed to set_model (at most one item)


def set_model(model: Any) -> None:
    """Called by a model file: ``model`` (a ``PythonModel`` or a function) is the model."""
    if model is None or not (callable(model) or callable(getattr(model, "predict", None))):
        raise InvalidParameter(
            "set_model takes a PythonModel (an object with predict) or a function, got "
            f"{type(model).__name__}."
        )
    _current[:] = [model]
    theirs = sys.modules.get(_MLFLOW_MODULE)
    if theirs is not None:  # MLflow is running this file: its loader looks there
        setattr(theirs, _MLFLOW_SLOT, model)


def check_model_file(path: str | os.PathLike[str]) -> str:
    """The absolute path of a model file, or a clear error."""
    text = os.path.abspath(os.fspath(path))
    if not text.endswith(".py"):
        raise InvalidParameter(
            f"A model from code is a Python file (.py); got {os.fspath(path)!r}. Pass a "
            "PythonModel instance or a function to save a pickled model instead."
        )
    if not os.path.isfile(text):
        raise InvalidParameter(f"The model file {os.fspath(path)!r} does not exist.")
    return text


def run_model_file(path: str) -> Any:
    """Run the model file at ``path`` and return the model it set."""
    theirs = sys.modules.get(_MLFLOW_MODULE)
    before = getattr(theirs, _MLFLOW_SLOT, None) if theirs is not None else None
    _current.clear()
    name = f"mltrail_code_model_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidParameter(f"Cannot read the model file {path!r} as Python.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's code failed: say where and why
        sys.modules.pop(name, None)
        raise MltrailException(
            f"Running the model file {os.path.basename(path)!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    if _current:
        return _current.pop()
    theirs = sys.modules.get(_MLFLOW_MODULE)
    after = getattr(theirs, _MLFLOW_SLOT, None) if theirs is not None else None
    if after is not None and after is not before:
        return after  # a file written for MLflow: mlflow.models.set_model(...)
    raise InvalidParameter(
        f"The model file {os.path.basename(path)!r} ran but set no model: end it with "
        "mltrail.models.set_model(<your model>)."
    )
