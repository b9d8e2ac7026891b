"""What every flavor's ``save_model`` shares: a fresh directory, ``code/``, the input example,
the signature (inferred from the example when not given), ``MLmodel`` and the environment."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.exceptions import AlreadyExists, InvalidParameter
from mltrail.models.environment import (
    resolve_requirements,
    write_conda_env,
    write_environment,
)
from mltrail.models.examples import save_input_example
from mltrail.models.model import MLMODEL_FILE_NAME, Model
from mltrail.models.signature import ModelSignature, infer_signature
from mltrail.version import __version__

_log = logging.getLogger(__name__)
CODE_DIR = "code"


def prepare_model_dir(path: str | os.PathLike[str]) -> str:
    """An empty directory at ``path`` (refuses to write over a non-empty one)."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise AlreadyExists(f"Path '{path}' already exists and is not empty.")
    os.makedirs(path, exist_ok=True)
    return path


def copy_code_paths(path: str, code_paths: Sequence[str] | None) -> str | None:
    """Copy files and folders into ``<path>/code`` (put on sys.path when loading)."""
    if not code_paths:
        return None
    target = os.path.join(path, CODE_DIR)
    os.makedirs(target, exist_ok=True)
    for src in code_paths:
        src = os.fspath(src)
        dst = os.path.join(target, os.path.basename(os.path.normpath(src)))
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif os.path.isfile(src):
            shutil.copy2(src, dst)
        else:
            raise InvalidParameter(f"code_paths entry {src!r} is not a file or folder.")
    return CODE_DIR


def _dir_size(path: str) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
    return total


def _example_data(example: Any) -> Any:
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0]
    return example


def finish_model_dir(
    path: str,
    mlflow_model: Model,
    *,
    signature: ModelSignature | None,
    input_example: Any,
    requirements: list[str],
    conda_env: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    predict: Callable[[Any], Any] | None = None,
) -> Model:
    """Write the example, the signature, ``MLmodel`` and the environment files.

    ``conda_env`` (a dict or a YAML file) gives the pip requirements when
    ``pip_requirements`` is not given."""
    if conda_env is not None and pip_requirements is None:
        pip_requirements = write_conda_env(path, conda_env)
    if signature is not None and not isinstance(signature, ModelSignature):
        raise InvalidParameter(
            f"signature must be a ModelSignature (see infer_signature), got "
            f"{type(signature).__name__}."
        )
    if input_example is not None:
        mlflow_model.saved_input_example_info = save_input_example(path, input_example)
        if signature is None:
            signature = _signature_from_example(input_example, predict)
    mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = dict(metadata)
    size = _dir_size(path)
    mlflow_model.model_size_bytes = size or None
    mlflow_model.extra.setdefault("mltrail_version", __version__)
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    write_environment(
        path, resolve_requirements(requirements, pip_requirements, extra_pip_requirements)
    )
    return mlflow_model


def _signature_from_example(example: Any, predict: Callable[[Any], Any] | None) -> Any:
    data = _example_data(example)
    params = example[1] if data is not example else None
    output = None
    if predict is not None:
        try:
            output = predict(data)
        except Exception as exc:  # noqa: BLE001 - a failing example must not fail the save
            _log.warning("Could not run the model on the input example to infer outputs: %s", exc)
    try:
        signature = infer_signature(data, None, params)
        if output is not None:
            output = _row_predictions_as_series(signature, output)
            signature = infer_signature(data, output, params)
        return signature
    except InvalidParameter as exc:
        _log.warning("Could not infer a signature from the input example: %s", exc.message)
        return None


def _row_predictions_as_series(signature: Any, output: Any) -> Any:
    """A 1-D array predicted from column-based input holds one value per row: describe it as
    one column (as MLflow does), not as a tensor."""
    import numpy as np

    one_dim = isinstance(output, np.ndarray) and output.ndim == 1
    if one_dim and not signature.inputs.is_tensor_spec():
        import pandas as pd

        return pd.Series(output)
    return output
