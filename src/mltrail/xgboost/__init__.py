"""``mltrail.xgboost``: XGBoost models (MLflow's ``mlflow.xgboost``), native ``Booster`` or the
sklearn-style estimators, saved in XGBoost's own format (``model.ubj`` by default; ``json`` and
``xgb`` on request). The ``MLmodel`` names ``loader_module: mlflow.xgboost`` so MLflow loads
these models too. xgboost is imported only when a model needs it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter
from mltrail.models import model_logging
from mltrail.models.environment import infer_requirements
from mltrail.models.model import Model, ModelInfo
from mltrail.models.native_flavor import (
    NativeModelWrapper,
    class_path,
    flavor_conf,
    import_library,
    model_root,
)
from mltrail.models.saving import copy_code_paths, finish_model_dir, prepare_model_dir
from mltrail.models.signature import ModelSignature
from mltrail.pyfunc.flavor import add_to_model

FLAVOR_NAME = "xgboost"
MODEL_FORMATS = ("ubj", "json", "xgb", "deprecated")


def _xgboost() -> Any:
    return import_library("xgboost", "xgboost")


def save_model(
    xgb_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    **_ignored: Any,
) -> None:
    """Save an XGBoost ``Booster`` or ``XGBModel`` as a model directory at ``path``."""
    xgboost = _xgboost()
    if model_format not in MODEL_FORMATS:
        raise InvalidParameter(
            f"model_format must be one of {list(MODEL_FORMATS)}, not {model_format!r}."
        )
    if not isinstance(xgb_model, (xgboost.Booster, xgboost.XGBModel)):
        raise InvalidParameter(
            f"mltrail.xgboost saves an xgboost Booster or XGBModel, not {type(xgb_model).__name__}."
        )
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    file_name = f"model.{model_format}"
    xgb_model.save_model(os.path.join(path, file_name))
    add_to_model(mlflow_model, loader_module="mlflow.xgboost", data=file_name, code=code)
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        xgb_version=xgboost.__version__,
        data=file_name,
        model_class=class_path(xgb_model),
        model_format=model_format,
        code=code,
    )
    predict = _wrap(xgb_model).predict if input_example is not None else None
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=infer_requirements([xgb_model], ["xgboost", "numpy", "pandas"]),
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=predict,
    )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model to the active run (``log_model(model, name="model")``)."""
    return model_logging.log_model(
        save_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        xgb_model=xgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_format=model_format,
        metadata=metadata,
    )


def _model_class(class_path: str) -> Any:
    # Only xgboost's own classes: the MLmodel file must not be able to name any importable code.
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name.startswith("xgboost"):
        raise InvalidParameter(
            f"Refusing to load model class {class_path!r}: not an xgboost class."
        )
    _xgboost()
    return getattr(importlib.import_module(module_name), class_name)


def _load_file(file_path: str, class_path: str) -> Any:
    model = _model_class(class_path)()
    model.load_model(file_path)
    return model


def _load_from_dir(path: str) -> Any:
    conf = flavor_conf(path, FLAVOR_NAME)
    return _load_file(
        os.path.join(path, conf["data"]), conf.get("model_class", "xgboost.core.Booster")
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The XGBoost model saved at ``model_uri`` (a path or a model URI), of its saved class."""
    from mltrail.models.uri import download_model

    return _load_from_dir(download_model(model_uri, dst_path))


def _predict(model: Any, data: Any) -> Any:
    """A Booster predicts on a DMatrix made from the input; estimators on the input."""
    xgboost = _xgboost()
    if isinstance(model, xgboost.Booster):
        return model.predict(xgboost.DMatrix(data))
    return model.predict(data)


def _wrap(model: Any) -> NativeModelWrapper:
    return NativeModelWrapper(model, _predict)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc loader (``loader_module: mlflow.xgboost``); ``path`` is the model file."""
    return _wrap(_load_from_dir(model_root(path)))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log params, per-iteration metrics, feature importance and the model of every training."""
    from mltrail.autologging.xgboost import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]
