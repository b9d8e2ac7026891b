"""``mltrail.lightgbm``: LightGBM models (MLflow's ``mlflow.lightgbm``). A native ``Booster`` is
saved in LightGBM's text format (``model.lgb``); the sklearn-style estimators as skops
(``model.skops``, the default, loads without running pickled code) or cloudpickle
(``model.pkl``). The ``MLmodel`` names ``loader_module: mlflow.lightgbm`` so MLflow loads these
models too. lightgbm is imported only when a model needs it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException
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

FLAVOR_NAME = "lightgbm"
SERIALIZATION_FORMATS = ("skops", "cloudpickle", "pickle")
# Types a LightGBM estimator is made of that skops does not trust by itself.
_LIGHTGBM_TYPES_PREFIX = "lightgbm."
_ALSO_TRUSTED = {"collections.OrderedDict"}


def _lightgbm() -> Any:
    return import_library("lightgbm", "lightgbm")


def _save_estimator(model: Any, path: str, fmt: str) -> tuple[str, list[str] | None]:
    if fmt == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        foreign = [
            t
            for t in untrusted
            if not t.startswith(_LIGHTGBM_TYPES_PREFIX) and t not in _ALSO_TRUSTED
        ]
        if foreign:
            raise InvalidParameter(
                f"The model contains types skops does not trust: {foreign}; save it with "
                "serialization_format='cloudpickle' (which loads only from sources you trust)."
            )
        skops.io.dump(model, os.path.join(path, "model.skops"))
        return "model.skops", sorted(untrusted)
    with open(os.path.join(path, "model.pkl"), "wb") as fh:
        if fmt == "cloudpickle":
            import cloudpickle

            cloudpickle.dump(model, fh)
        else:
            import pickle

            pickle.dump(model, fh)
    return "model.pkl", None


def save_model(
    lgb_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str = "skops",
    **_ignored: Any,
) -> None:
    """Save a LightGBM ``Booster`` or ``LGBMModel`` as a model directory at ``path``."""
    lightgbm = _lightgbm()
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameter(
            f"serialization_format must be one of {list(SERIALIZATION_FORMATS)}, "
            f"not {serialization_format!r}."
        )
    if not isinstance(lgb_model, (lightgbm.Booster, lightgbm.LGBMModel)):
        raise InvalidParameter(
            "mltrail.lightgbm saves a lightgbm Booster or LGBMModel, "
            f"not {type(lgb_model).__name__}."
        )
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    flavor: dict[str, Any] = {
        "lgb_version": lightgbm.__version__,
        "model_class": class_path(lgb_model),
    }
    if isinstance(lgb_model, lightgbm.Booster):
        file_name = "model.lgb"
        lgb_model.save_model(os.path.join(path, file_name))
        packages = ["lightgbm", "numpy"]
    else:
        file_name, trusted = _save_estimator(lgb_model, path, serialization_format)
        flavor["serialization_format"] = serialization_format
        if trusted is not None:
            flavor["skops_trusted_types"] = trusted
        packages = ["lightgbm", "numpy", "pandas", "scikit-learn"]
        packages.append("skops" if serialization_format == "skops" else "cloudpickle")
    add_to_model(mlflow_model, loader_module="mlflow.lightgbm", data=file_name, code=code)
    mlflow_model.add_flavor(FLAVOR_NAME, data=file_name, code=code, **flavor)
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=infer_requirements([lgb_model], packages),
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=lgb_model.predict if input_example is not None else None,
    )


def log_model(
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    serialization_format: str = "skops",
    **kwargs: Any,
) -> ModelInfo:
    """Log a LightGBM model to the active run (``log_model(model, name="model")``)."""
    return model_logging.log_model(
        save_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        lgb_model=lgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        serialization_format=serialization_format,
    )


def _load_from_dir(path: str) -> Any:
    conf = flavor_conf(path, FLAVOR_NAME)
    lightgbm = _lightgbm()
    file_path = os.path.join(path, conf["data"])
    if file_path.endswith(".lgb"):
        return lightgbm.Booster(model_file=file_path)
    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt == "skops":
        import skops.io

        allowed = list(conf.get("skops_trusted_types") or [])
        refused = [t for t in skops.io.get_untrusted_types(file=file_path) if t not in allowed]
        if refused:
            raise MltrailException(
                f"Refusing to load this skops model: it contains the untrusted types {refused}, "
                "which its MLmodel does not list in skops_trusted_types.",
                error_code="PERMISSION_DENIED",
            )
        return skops.io.load(file_path, trusted=allowed or None)
    from mltrail.models.safety import check_pickle_allowed

    check_pickle_allowed(f"a LightGBM model saved with {fmt}")
    with open(file_path, "rb") as fh:
        import cloudpickle

        return cloudpickle.load(fh)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The LightGBM model saved at ``model_uri`` (a path or a model URI)."""
    from mltrail.models.uri import download_model

    return _load_from_dir(download_model(model_uri, dst_path))


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc loader (``loader_module: mlflow.lightgbm``); ``path`` is the model file."""
    return NativeModelWrapper(_load_from_dir(model_root(path)))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log params, per-iteration metrics, feature importance and the model of every training."""
    from mltrail.autologging.lightgbm import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]
