"""``mltrail.pyfunc``: the generic model interface (MLflow's ``mlflow.pyfunc``).

Any model with a ``python_function`` flavor loads as a ``PyFuncModel`` whose
``predict(data, params=None)`` takes pandas, numpy, dicts or lists. Importing this module
imports no ML framework; flavors import theirs when a model needs it.
"""

from __future__ import annotations

from typing import Any

from mltrail.pyfunc.flavor import FLAVOR_NAME, add_to_model, log_model, save_model
from mltrail.pyfunc.loading import PyFuncModel, load_model, load_pyfunc
from mltrail.pyfunc.model import PythonModel, PythonModelContext


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: Any = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A Spark UDF that scores columns (or a struct) with the model at ``model_uri``."""
    from mltrail.pyfunc.spark_scoring import spark_udf as _spark_udf

    return _spark_udf(
        spark,
        model_uri,
        result_type=result_type,
        env_manager=env_manager,
        params=params,
        extra_env=extra_env,
        model_config=model_config,
        **kwargs,
    )


def get_model_dependencies(model_uri: str, format: str = "pip") -> str:
    """The local path of the model's ``requirements.txt`` (``format="pip"``) or
    ``conda.yaml`` (``format="conda"``)."""
    import os

    from mltrail.exceptions import InvalidParameter
    from mltrail.models.uri import download_model

    name = {"pip": "requirements.txt", "conda": "conda.yaml"}.get(format)
    if name is None:
        raise InvalidParameter(f"format must be 'pip' or 'conda', got {format!r}.")
    path = os.path.join(download_model(model_uri), name)
    if not os.path.isfile(path):
        raise InvalidParameter(f"The model at {model_uri!r} has no {name}.")
    return path


__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "add_to_model",
    "get_model_dependencies",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
    "spark_udf",
]
