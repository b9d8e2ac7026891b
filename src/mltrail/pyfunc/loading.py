"""``load_model``: any model with a ``python_function`` flavor, as a ``PyFuncModel``.

The flavor's ``loader_module`` is imported and its ``_load_pyfunc(data_path[, config])``
called. Loader names MLflow writes (``mlflow.sklearn``...) map to mltrail's own loaders, so
models saved by MLflow load without MLflow installed (except MLflow python models, whose
pickles need it).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import platform
import sys
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.models.enforcement import enforce_params, enforce_schema
from mltrail.models.model import Model

_log = logging.getLogger(__name__)
FLAVOR_NAME = "python_function"


def _import_loader(name: str) -> Any:
    if not isinstance(name, str) or not name:
        raise InvalidParameter("The python_function flavor has no loader_module.")
    if name == "mlflow" or name.startswith("mlflow."):
        own = "mltrail" + name[len("mlflow") :]
        try:
            module = importlib.import_module(own)
            if hasattr(module, "_load_pyfunc"):
                return module
        except ModuleNotFoundError as exc:
            if not (exc.name and own.startswith(exc.name)):
                raise
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise MltrailException(
            f"Cannot load this model: its loader module {name!r} is not installed "
            f"({exc}). Install the package that provides it.",
            error_code="RESOURCE_DOES_NOT_EXIST",
        ) from None


def _accepts_params(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "params" in params and params["params"].kind != inspect.Parameter.VAR_KEYWORD


class PyFuncModel:
    """A loaded model with one ``predict(data, params=None)``, whatever its flavor. Input is
    checked against the signature first."""

    def __init__(
        self,
        model_meta: Model,
        model_impl: Any,
        predict_fn: str = "predict",
        model_path: str | None = None,
        model_config: dict[str, Any] | None = None,
    ) -> None:
        fn = getattr(model_impl, predict_fn, None)
        if fn is None:
            raise InvalidParameter(f"Model implementation is missing required {predict_fn} method.")
        self._meta = model_meta
        self._impl = model_impl
        self._predict_fn = fn
        self._predict_fn_name = predict_fn
        self._with_params = _accepts_params(fn)
        self._path = model_path
        self._model_config = model_config or {}

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        schema = self._meta.get_input_schema()
        if schema is not None:
            data = enforce_schema(data, schema)
        params = enforce_params(params, self._meta.get_params_schema())
        if self._with_params:
            return self._predict_fn(data, params=params)
        return self._predict_fn(data)

    def matrix_predict(self) -> Any:
        """A function giving, for a 2-D NumPy array whose columns are the input schema's (in
        its order and already of its one numeric type), what ``predict`` gives for that table;
        or None when the flavor offers none. It skips the checks such a table passes anyway."""
        schema = self._meta.get_input_schema()
        hook = getattr(self._impl, "matrix_predict", None)
        if (
            hook is None
            or self._predict_fn_name != "predict"
            or schema is None
            or schema.is_tensor_spec()
            or not schema.has_input_names()
            or self._meta.get_params_schema() is not None
        ):
            return None
        return hook([str(spec.name) for spec in schema.inputs])

    @property
    def metadata(self) -> Model:
        return self._meta

    @property
    def model_id(self) -> str | None:
        return self._meta.model_id

    @property
    def loader_module(self) -> str | None:
        return self._meta.flavors.get(FLAVOR_NAME, {}).get("loader_module")

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config

    @property
    def input_example(self) -> Any:
        return self._meta.load_input_example(self._path) if self._path else None

    def get_raw_model(self) -> Any:
        raw = getattr(self._impl, "get_raw_model", None)
        return raw() if raw is not None else self._impl

    def unwrap_python_model(self) -> Any:
        unwrap = getattr(self._impl, "unwrap_python_model", None)
        if unwrap is None:
            raise InvalidParameter("This model is not a python model (it has no PythonModel).")
        return unwrap()

    def __repr__(self) -> str:
        meta = self._meta
        lines = ["mltrail.pyfunc.loaded_model:"]
        if meta.run_id:
            lines.append(f"  run_id: {meta.run_id}")
        if meta.model_id:
            lines.append(f"  model_id: {meta.model_id}")
        lines.append(f"  flavor: {self.loader_module}")
        return "\n".join(lines)


def _check_python_version(conf: dict[str, Any]) -> None:
    saved = conf.get("python_version")
    if not saved:
        _log.warning(
            "The specified model does not have a specified Python version. It may be "
            "incompatible with the version of Python that is currently running (%s).",
            platform.python_version(),
        )
    elif str(saved).split(".")[:2] != platform.python_version().split(".")[:2]:
        _log.warning(
            "The model was saved with Python %s; this is Python %s. Loading may fail.",
            saved,
            platform.python_version(),
        )


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | str | None = None,
) -> PyFuncModel:
    """Load any model with a ``python_function`` flavor from a path or model URI."""
    from mltrail.models.uri import download_model

    local = download_model(model_uri, dst_path)
    meta = Model.load(local)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFound(f'Model does not have the "{FLAVOR_NAME}" flavor')
    if (meta.metadata or {}).get("mlflow.model.isExternal") is True:
        raise InvalidParameter(
            "This model's artifacts are external and are not stored in the model directory."
        )
    if not suppress_warnings:
        _check_python_version(conf)
    code = conf.get("code")
    if code:
        code_dir = os.path.join(local, code)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
    data_path = os.path.join(local, conf["data"]) if conf.get("data") else local
    config = dict(conf.get("config") or {})
    if isinstance(model_config, str):
        import yaml

        with open(model_config, encoding="utf-8") as f:
            model_config = yaml.safe_load(f) or {}
    config.update(model_config or {})
    loader = _import_loader(conf.get("loader_module", ""))
    impl = loader._load_pyfunc(data_path, config) if config else loader._load_pyfunc(data_path)
    return PyFuncModel(meta, impl, conf.get("predict_fn", "predict"), local, config)


load_pyfunc = load_model
