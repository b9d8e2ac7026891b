"""``mltrail.models``: the model format (MLflow's ``mlflow.models``).

A model is a directory with an ``MLmodel`` file (flavors, signature, input example, ids),
environment files, and each flavor's own files. See ``docs/models.md``.
"""

from __future__ import annotations

from typing import Any

from mltrail.models.code_model import set_model
from mltrail.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from mltrail.models.signature import ModelSignature, infer_signature

ModelInputExample = Any


def get_model_info(model_uri: str) -> ModelInfo:
    """The description of the model at ``model_uri`` (path or URI), from its MLmodel."""
    from mltrail.models.uri import download_model

    info = Model.load(download_model(model_uri)).get_model_info()
    info.model_uri = model_uri
    return info


def set_signature(model_uri: str, signature: ModelSignature) -> None:
    """Set the signature of a model saved at a local path."""
    import os

    from mltrail.exceptions import InvalidParameter
    from mltrail.models.uri import _local_path

    local = _local_path(model_uri)
    if local is None or not os.path.isdir(local):
        raise InvalidParameter(
            "set_signature changes a model saved at a local path; log a new model instead "
            "for other URIs."
        )
    model = Model.load(local)
    model.signature = signature
    model.save(os.path.join(local, MLMODEL_FILE_NAME))


def validate_schema(data: Any, expected_schema: Any) -> None:
    """Raise a clear error when ``data`` does not match ``expected_schema``."""
    from mltrail.models.enforcement import enforce_schema

    enforce_schema(data, expected_schema)


def predict(
    model_uri: str,
    input_data: Any = None,
    input_path: str | None = None,
    content_type: str = "json",
    output_path: str | None = None,
    env_manager: str = "local",
    **kwargs: Any,
) -> Any:
    """Score ``input_data`` (or a JSON/CSV file) with a model, as ``mltrail models predict``."""
    from mltrail.models.batch import predict as _predict

    return _predict(
        model_uri,
        input_data=input_data,
        input_path=input_path,
        content_type=content_type,
        output_path=output_path,
        env_manager=env_manager,
        **kwargs,
    )


def build_docker(model_uri: str | None = None, name: str = "mltrail-pyfunc", **kwargs: Any) -> None:
    """Build a Docker image that serves the model (needs a running Docker engine)."""
    from mltrail.models.docker import build_docker as _build

    _build(model_uri, name, **kwargs)


__all__ = [
    "MLMODEL_FILE_NAME",
    "Model",
    "ModelInfo",
    "ModelInputExample",
    "ModelSignature",
    "build_docker",
    "get_model_info",
    "infer_signature",
    "predict",
    "set_model",
    "set_signature",
    "validate_schema",
]
