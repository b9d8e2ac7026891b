"""``mltrail.pytorch``: PyTorch modules and Lightning modules (MLflow's ``mlflow.pytorch``).

Whole modules are saved with ``torch.save`` and a pickle module (cloudpickle by default, or
the ``pickle_module=`` given), in MLflow's layout (``data/model.pth`` and
``data/pickle_module_info.txt``), so MLflow loads them too. State dicts have their own
functions and load with ``weights_only=True`` (no code runs). torch is imported only when a
function here needs it: ``import mltrail.pytorch`` is cheap.
"""

from __future__ import annotations

import importlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.models import model_logging
from mltrail.models.environment import infer_requirements
from mltrail.models.model import Model, ModelInfo
from mltrail.models.saving import copy_code_paths, finish_model_dir, prepare_model_dir
from mltrail.models.signature import ModelSignature
from mltrail.pyfunc.flavor import add_to_model

FLAVOR_NAME = "pytorch"
DATA_DIR = "data"
MODEL_FILE = "model.pth"
EXPORTED_FILE = "model.pt2"
PICKLE_MODULE_INFO_FILE = "pickle_module_info.txt"
STATE_DICT_FILE = "state_dict.pth"
# MLflow's name for its default pickle module (cloudpickle); writing it lets MLflow load ours.
DEFAULT_PICKLE_MODULE_NAME = "mlflow.pytorch.pickle_module"
EXTRA_FILES_DIR = "extra_files"


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MltrailException(
            "This needs PyTorch: pip install 'mltrail[torch]' (or pip install torch).",
            error_code="RESOURCE_DOES_NOT_EXIST",
        ) from None
    return torch


def _pickle_module_name(pickle_module: Any) -> str:
    if pickle_module is None:
        return DEFAULT_PICKLE_MODULE_NAME
    name = getattr(pickle_module, "__name__", None)
    if not name:
        raise InvalidParameter("pickle_module must be a module such as pickle or cloudpickle.")
    if name in ("cloudpickle", "mltrail.pytorch.pickle_module"):
        return DEFAULT_PICKLE_MODULE_NAME
    return str(name)


def _import_pickle_module(name: str) -> Any:
    if name in (DEFAULT_PICKLE_MODULE_NAME, "cloudpickle"):
        name = "mltrail.pytorch.pickle_module"
    return importlib.import_module(name)


def _is_lightning(model: Any) -> bool:
    return any(
        k.__module__.split(".")[0] in ("lightning", "pytorch_lightning")
        for k in type(model).__mro__
    )


def save_model(
    pytorch_model: Any,
    path: str,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    requirements_file: str | None = None,
    extra_files: Sequence[str] | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> None:
    """Save a whole ``torch.nn.Module`` (or LightningModule) as a model directory."""
    torch = _torch()
    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameter(
            f"pytorch_model must be a torch.nn.Module, got {type(pytorch_model).__name__}; "
            "save a state dict with mltrail.pytorch.save_state_dict."
        )
    if serialization_format not in (None, "pickle"):
        raise InvalidParameter(
            f"serialization_format {serialization_format!r} is not supported; mltrail saves "
            "whole modules with serialization_format='pickle'."
        )
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    data = os.path.join(path, DATA_DIR)
    os.makedirs(data)
    module_name = _pickle_module_name(pickle_module)
    torch.save(
        pytorch_model,
        os.path.join(data, MODEL_FILE),
        pickle_module=_import_pickle_module(module_name),
    )
    with open(os.path.join(data, PICKLE_MODULE_INFO_FILE), "w", encoding="utf-8") as f:
        f.write(module_name)
    flavor: dict[str, Any] = {
        "model_data": DATA_DIR,
        "pytorch_version": str(torch.__version__),
        "code": code,
    }
    if extra_files:
        flavor["extra_files"] = _copy_extra_files(path, extra_files)
    add_to_model(
        mlflow_model,
        loader_module="mlflow.pytorch",
        data=DATA_DIR,
        code=code,
        pickle_module_name=module_name,
        model_config={"device": None},
    )
    mlflow_model.add_flavor(FLAVOR_NAME, **flavor)
    packages = ["torch", "numpy", "pandas", "cloudpickle"]
    if _is_lightning(pytorch_model):
        packages.append(type(pytorch_model).__mro__[1].__module__.split(".")[0])
    if requirements_file and pip_requirements is None:
        pip_requirements = requirements_file
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=infer_requirements([pytorch_model], packages),
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=_TorchWrapper(pytorch_model).predict,
    )


def _copy_extra_files(path: str, extra_files: Sequence[str]) -> list[dict[str, str]]:
    import shutil

    target = os.path.join(path, EXTRA_FILES_DIR)
    os.makedirs(target, exist_ok=True)
    out = []
    for src in extra_files:
        if not os.path.isfile(src):
            raise InvalidParameter(f"extra_files entry {src!r} is not a file.")
        shutil.copy2(src, os.path.join(target, os.path.basename(src)))
        out.append({"path": f"{EXTRA_FILES_DIR}/{os.path.basename(src)}"})
    return out


def log_model(
    pytorch_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    requirements_file: str | None = None,
    extra_files: Sequence[str] | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PyTorch model to the active run (``log_model(model, "name")`` works)."""
    return model_logging.log_model(
        save_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        pytorch_model=pytorch_model,
        conda_env=conda_env,
        code_paths=code_paths,
        pickle_module=pickle_module,
        signature=signature,
        input_example=input_example,
        requirements_file=requirements_file,
        extra_files=extra_files,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        serialization_format=serialization_format,
    )


def _load_from_data(data_path: str, device: Any = None) -> Any:
    from mltrail.models.safety import check_pickle_allowed

    torch = _torch()
    exported = os.path.join(data_path, EXPORTED_FILE)
    if os.path.isfile(exported):
        return torch.export.load(exported).module()
    info = os.path.join(data_path, PICKLE_MODULE_INFO_FILE)
    name = DEFAULT_PICKLE_MODULE_NAME
    if os.path.isfile(info):
        with open(info, encoding="utf-8") as f:
            name = f.read().strip() or name
    check_pickle_allowed("a pickled PyTorch module")
    model_file = os.path.join(data_path, MODEL_FILE)
    if not os.path.isfile(model_file):
        raise NotFound(f"No PyTorch model file at {model_file!r}.")
    return torch.load(
        model_file,
        pickle_module=_import_pickle_module(name),
        weights_only=False,
        map_location=device,
    )


def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """The ``torch.nn.Module`` saved at ``model_uri`` (path or model URI)."""
    from mltrail.models.uri import download_model

    local = download_model(model_uri, dst_path)
    conf = Model.load(local).flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFound(f'Model does not have the "{FLAVOR_NAME}" flavor')
    return _load_from_data(
        os.path.join(local, conf.get("model_data", DATA_DIR)), kwargs.get("map_location")
    )


class _TorchWrapper:
    """The pyfunc face of a module: DataFrames, arrays and dicts of arrays in; arrays (or a
    DataFrame for DataFrame input) out; no gradients, eval mode."""

    def __init__(self, model: Any, device: Any = None) -> None:
        self.model = model
        self.device = device

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        torch = _torch()
        device = (params or {}).get("device", self.device) or "cpu"
        if isinstance(data, pd.DataFrame):
            inputs: Any = torch.from_numpy(data.to_numpy(dtype=np.float32, copy=True))
        elif isinstance(data, np.ndarray):
            inputs = _float_like_model(self.model, torch.from_numpy(data))
        elif isinstance(data, dict):
            inputs = {
                k: _float_like_model(self.model, torch.from_numpy(np.asarray(v))).to(device)
                for k, v in data.items()
            }
        elif isinstance(data, list):
            inputs = _float_like_model(self.model, torch.tensor(data))
        else:
            raise InvalidParameter(
                "A PyTorch model takes a DataFrame, a numpy array or a dict of arrays, got "
                f"{type(data).__name__}."
            )
        was_training = _eval_mode(self.model)
        try:
            with torch.no_grad():
                if isinstance(inputs, dict):
                    output = self.model(**inputs)
                else:
                    output = self.model(inputs.to(device))
        finally:
            if was_training:
                self.model.train(True)
        if isinstance(output, torch.Tensor):
            array = output.detach().cpu().numpy()
            return pd.DataFrame(array) if isinstance(data, pd.DataFrame) else array
        return output


def _float_like_model(model: Any, tensor: Any) -> Any:
    """JSON numbers arrive as float64 while most modules hold float32 weights: cast floating
    input to the dtype of the module's first floating parameter, so that ``{"inputs": ...}``
    scores instead of failing with a dtype mismatch. Integer input (token ids) is kept."""
    if not tensor.is_floating_point() or not hasattr(model, "parameters"):
        return tensor
    for param in model.parameters():
        if param.is_floating_point():
            return tensor if tensor.dtype == param.dtype else tensor.to(param.dtype)
    return tensor


def _eval_mode(model: Any) -> bool:
    """Switch to eval mode; whether the model was training. Exported (pt2) programs have no
    switch and are left as they are."""
    was_training = bool(getattr(model, "training", False))
    if was_training:
        try:
            model.eval()
        except NotImplementedError:
            return False
    return was_training


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc loader (``loader_module: mlflow.pytorch``); ``path`` is ``<model>/data``."""
    device = os.environ.get("MLFLOW_DEFAULT_PREDICTION_DEVICE") or (model_config or {}).get(
        "device"
    )
    return _TorchWrapper(_load_from_data(path, device), device)


# -- state dicts ---------------------------------------------------------------------------
def save_state_dict(state_dict: dict[str, Any], path: str, **kwargs: Any) -> None:
    """Save a state dict (weights only) as ``<path>/state_dict.pth``."""
    torch = _torch()
    if not isinstance(state_dict, dict):
        raise InvalidParameter(
            f"state_dict must be a dict (e.g. model.state_dict()), got {type(state_dict).__name__}."
        )
    os.makedirs(path, exist_ok=True)
    torch.save(state_dict, os.path.join(path, STATE_DICT_FILE), **kwargs)


def log_state_dict(state_dict: dict[str, Any], artifact_path: str, **kwargs: Any) -> None:
    """Save a state dict into the active run's artifacts under ``artifact_path``."""
    import mltrail

    with tempfile.TemporaryDirectory(prefix="mltrail-state-") as tmp:
        save_state_dict(state_dict, tmp, **kwargs)
        mltrail.log_artifacts(tmp, artifact_path)


def load_state_dict(state_dict_uri: str, **kwargs: Any) -> Any:
    """Load a state dict saved by ``save_state_dict``/``log_state_dict`` (weights only: no
    code from the file runs)."""
    from mltrail.models.uri import download_model

    torch = _torch()
    local = download_model(state_dict_uri)
    file_path = os.path.join(local, STATE_DICT_FILE) if os.path.isdir(local) else local
    if not os.path.isfile(file_path):
        raise NotFound(f"No state dict at {state_dict_uri!r}.")
    kwargs.setdefault("weights_only", True)
    if not kwargs["weights_only"]:
        from mltrail.models.safety import check_pickle_allowed

        check_pickle_allowed("a PyTorch state dict loaded with weights_only=False")
        return torch.load(file_path, **kwargs)
    try:
        return torch.load(file_path, **kwargs)
    except pickle.UnpicklingError as exc:
        raise MltrailException(
            f"Refusing to load the state dict at {state_dict_uri!r}: it holds objects other "
            "than tensors and plain values, which only a full unpickling (running code from "
            "the file) can rebuild. If you made this file yourself, pass weights_only=False. "
            f"({str(exc).splitlines()[0]})",
            error_code="PERMISSION_DENIED",
        ) from None


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log params, metrics, checkpoints and the model of Lightning training automatically."""
    from mltrail.autologging.pytorch import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]
