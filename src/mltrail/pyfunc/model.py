"""Python models: ``PythonModel`` subclasses (or plain functions) saved with cloudpickle,
plus the artifacts they read at load time.

This module is also the ``loader_module`` written for such models (``mltrail.pyfunc.model``),
and it loads the ones MLflow saved (``mlflow.pyfunc.model``), which needs ``mlflow`` installed
because their pickled classes derive from MLflow's.
"""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Callable
from typing import Any

from mltrail.exceptions import InvalidParameter

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
LOADER_MODULE = "mltrail.pyfunc.model"
# MLflow's loader name for models from code (mltrail's own is mltrail.pyfunc.loaders.code_model).
CODE_LOADER_MODULE = "mlflow.pyfunc.loaders.code_model"


class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: artifact paths and the model config."""

    def __init__(
        self, artifacts: dict[str, str] | None = None, model_config: dict[str, Any] | None = None
    ) -> None:
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        """Artifact name -> absolute local path."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config


class PythonModel:
    """Subclass this, implement ``predict`` (and ``load_context`` if the model needs its
    artifacts), and save it with ``mltrail.pyfunc.save_model(python_model=...)``."""

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading; read ``context.artifacts`` here."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        raise NotImplementedError("A PythonModel subclass must implement predict().")


class _FunctionPythonModel(PythonModel):
    """A plain function given as ``python_model``: ``func(model_input)``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        return self.func(model_input)


def as_python_model(python_model: Any) -> Any:
    if isinstance(python_model, PythonModel) or _looks_like_python_model(python_model):
        return python_model
    if callable(python_model):
        return _FunctionPythonModel(python_model)
    raise InvalidParameter(
        "python_model must be a PythonModel subclass instance or a function, got "
        f"{type(python_model).__name__}."
    )


def _looks_like_python_model(obj: Any) -> bool:
    """MLflow's own PythonModel (the same contract) is accepted as it is."""
    return any(
        k.__name__ == "PythonModel" and k.__module__.startswith("mlflow.")
        for k in type(obj).__mro__
    )


def copy_artifacts(path: str, artifacts: dict[str, str] | None) -> dict[str, dict[str, str]]:
    """Copy each artifact into ``<path>/artifacts``; the flavor's ``artifacts`` entry."""
    if not artifacts:
        return {}
    from mltrail.artifacts import download_artifacts

    target = os.path.join(path, ARTIFACTS_DIR)
    os.makedirs(target, exist_ok=True)
    out: dict[str, dict[str, str]] = {}
    for key, uri in artifacts.items():
        uri = os.fspath(uri)
        local = uri[len("file://") :] if uri.startswith("file://") else uri
        if not os.path.exists(local):
            local = download_artifacts(artifact_uri=uri)
        base = os.path.basename(os.path.normpath(local))
        rel = f"{ARTIFACTS_DIR}/{base}"
        if os.path.exists(os.path.join(path, rel)):
            rel = f"{ARTIFACTS_DIR}/{key}/{base}"
            os.makedirs(os.path.join(path, ARTIFACTS_DIR, key), exist_ok=True)
        dst = os.path.join(path, rel)
        if os.path.isdir(local):
            shutil.copytree(local, dst)
        else:
            shutil.copy2(local, dst)
        out[key] = {"path": rel, "uri": uri}
    return out


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params and params[name].kind != inspect.Parameter.VAR_KEYWORD


def _takes_context(fn: Callable[..., Any]) -> bool:
    """MLflow allows ``predict(self, model_input, params)`` without a context argument."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional and positional[0].name == "context":
        return True
    return len([p for p in positional if p.name != "params"]) >= 2


class PythonModelWrapper:
    """The pyfunc implementation around a python model: ``predict(model_input, params)``."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        predict = python_model.predict
        self._with_context = _takes_context(predict)
        self._with_params = _accepts(predict, "params")

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        args = (self.context, model_input) if self._with_context else (model_input,)
        if self._with_params:
            return self.python_model.predict(*args, params=params)
        return self.python_model.predict(*args)

    def predict_stream(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        stream = getattr(self.python_model, "predict_stream", None)
        if stream is None:
            raise InvalidParameter("This model does not support predict_stream.")
        args = (self.context, model_input) if _takes_context(stream) else (model_input,)
        return stream(*args, params=params)

    def unwrap_python_model(self) -> Any:
        return self.python_model


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The loader: unpickle the model, resolve its artifacts, call ``load_context``."""
    from mltrail.models.model import Model

    root = model_path if os.path.isdir(model_path) else os.path.dirname(model_path)
    conf = Model.load(root).flavors.get("python_function", {})
    if conf.get("model_code_path"):
        python_model = _model_from_code(root, str(conf["model_code_path"]))
    else:
        python_model = _unpickle(
            os.path.join(root, str(conf.get("python_model", PYTHON_MODEL_FILE)))
        )
    artifacts = {
        key: os.path.join(root, entry["path"])
        for key, entry in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, {**(conf.get("config") or {}), **(model_config or {})})
    python_model.load_context(context)
    return PythonModelWrapper(python_model, context)


def _unpickle(pickle_file: str) -> Any:
    from mltrail.models.safety import check_pickle_allowed

    check_pickle_allowed("a python model (cloudpickle)")
    import cloudpickle

    try:
        with open(pickle_file, "rb") as f:
            return cloudpickle.load(f)
    except ModuleNotFoundError as exc:
        hint = (
            " This model was saved by MLflow: pip install mlflow-skinny to load it."
            if (exc.name or "").startswith("mlflow")
            else ""
        )
        raise InvalidParameter(f"Cannot load the python model: {exc}.{hint}") from exc


def _model_from_code(root: str, code_path: str) -> Any:
    """Run the model file kept at the model's root (under its own name) for its model."""
    from mltrail.models.code_model import run_model_file
    from mltrail.models.safety import check_pickle_allowed

    check_pickle_allowed("a model saved as code (loading it runs its Python file)")
    file = os.path.join(root, os.path.basename(code_path.replace("\\", "/")))
    if not os.path.isfile(file):
        raise InvalidParameter(
            f"This model from code has no file {os.path.basename(file)!r} in its directory."
        )
    return as_python_model(run_model_file(file))
