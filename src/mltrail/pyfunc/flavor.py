"""Saving and logging generic python models: a ``PythonModel`` (or function) with artifacts,
a model from code (``python_model="model.py"``, see ``mltrail.models.code_model``), or files
plus a custom ``loader_module``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter
from mltrail.models import model_logging
from mltrail.models.code_model import check_model_file, run_model_file
from mltrail.models.environment import env_config, infer_requirements, python_version
from mltrail.models.model import Model, ModelInfo
from mltrail.models.saving import copy_code_paths, finish_model_dir, prepare_model_dir
from mltrail.models.signature import ModelSignature
from mltrail.pyfunc import model as python_models

FLAVOR_NAME = "python_function"
DATA_DIR = "data"


def add_to_model(
    model: Model,
    loader_module: str,
    data: str | None = None,
    code: str | None = None,
    conda_env: str | None = None,
    python_env: str | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Model:
    """Add the ``python_function`` flavor (how any tool loads this model generically)."""
    params: dict[str, Any] = {"loader_module": loader_module, "python_version": python_version()}
    if data is not None:
        params["data"] = data
    if code is not None:
        params["code"] = code
    params["env"] = env_config()
    if model_config:
        params["config"] = model_config
    params.update(kwargs)
    return model.add_flavor(FLAVOR_NAME, **params)


def save_model(
    path: str,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    streamable: bool | None = None,
    **_ignored: Any,
) -> None:
    """Save a python model (``python_model=``) or files with a ``loader_module``."""
    if (python_model is None) == (loader_module is None):
        raise InvalidParameter(
            "Give either python_model (a PythonModel or a function) or loader_module "
            "(with data_path), not both and not neither."
        )
    if artifacts and python_model is None:
        raise InvalidParameter("artifacts can only be given with python_model.")
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    requirements: list[str]
    predict: Any = None
    if python_model is not None:
        import cloudpickle

        extra: dict[str, Any] = {}
        if isinstance(python_model, str | os.PathLike):
            # A model from code: the file is the model; it runs here once to check it.
            source = check_model_file(python_model)
            file_name = os.path.basename(source)
            shutil.copy2(source, os.path.join(path, file_name))
            obj = python_models.as_python_model(run_model_file(source))
            loader = python_models.CODE_LOADER_MODULE
            extra["model_code_path"] = os.fspath(python_model)
            packages = ["pandas", "numpy"]
            load_obj: Callable[[], Any] = _CodeFile(os.path.join(path, file_name))
        else:
            obj = python_models.as_python_model(python_model)
            with open(os.path.join(path, python_models.PYTHON_MODEL_FILE), "wb") as f:
                cloudpickle.dump(obj, f)
            loader = python_models.LOADER_MODULE
            extra["python_model"] = python_models.PYTHON_MODEL_FILE
            extra["cloudpickle_version"] = cloudpickle.__version__
            packages = ["cloudpickle", "pandas", "numpy"]
            load_obj = _Pickled(os.path.join(path, python_models.PYTHON_MODEL_FILE))
        flavor_artifacts = python_models.copy_artifacts(path, artifacts)
        extra["streamable"] = (
            bool(streamable) if streamable is not None else hasattr(obj, "predict_stream")
        )
        if flavor_artifacts:
            extra["artifacts"] = flavor_artifacts
        add_to_model(
            mlflow_model,
            loader_module=loader,
            code=code,
            model_config=model_config,
            **extra,
        )
        is_function = isinstance(obj, python_models._FunctionPythonModel)
        target = obj.func if is_function else obj
        requirements = infer_requirements([target], packages)
        predict = _ExamplePredictor(path, load_obj, flavor_artifacts, model_config)
    else:
        data = None
        if data_path is not None:
            os.makedirs(os.path.join(path, DATA_DIR), exist_ok=True)
            dst = os.path.join(path, DATA_DIR, os.path.basename(os.path.normpath(data_path)))
            if os.path.isdir(data_path):
                shutil.copytree(data_path, dst)
            else:
                shutil.copy2(data_path, dst)
            data = os.path.relpath(dst, path).replace(os.sep, "/")
        add_to_model(
            mlflow_model,
            loader_module=str(loader_module),
            data=data,
            code=code,
            model_config=model_config,
            streamable=bool(streamable),
        )
        requirements = []
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=requirements,
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=predict,
    )


class _Pickled:
    """The python model unpickled from its file."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self) -> Any:
        import cloudpickle

        with open(self.file, "rb") as f:
            return cloudpickle.load(f)


class _CodeFile:
    """The python model its (copied) model file sets."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self) -> Any:
        return python_models.as_python_model(run_model_file(self.file))


class _ExamplePredictor:
    """Runs the just-saved python model on the input example (to infer the output schema),
    loaded from its file as a user would load it."""

    def __init__(
        self,
        path: str,
        load_obj: Any,
        artifacts: dict[str, dict[str, str]],
        config: dict[str, Any] | None,
    ) -> None:
        self.path = path
        self.load_obj = load_obj
        self.artifacts = artifacts
        self.config = config

    def __call__(self, data: Any) -> Any:
        obj = self.load_obj()
        paths = {k: os.path.join(self.path, v["path"]) for k, v in self.artifacts.items()}
        context = python_models.PythonModelContext(paths, self.config)
        obj.load_context(context)
        return python_models.PythonModelWrapper(obj, context).predict(data)


def log_model(
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    conda_env: Any = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    **kwargs: Any,
) -> ModelInfo:
    """Log a python model to the active run as a new logged model."""
    return model_logging.log_model(
        save_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        loader_module=loader_module,
        data_path=data_path,
        code_paths=code_paths,
        conda_env=conda_env,
        python_model=python_model,
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        model_config=model_config,
        **kwargs,
    )
