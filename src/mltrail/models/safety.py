"""The pickle gate: formats that run code when loaded (pickle, cloudpickle, torch's pickled
modules) load only while ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` (or
``MLTRAIL_ALLOW_PICKLE_DESERIALIZATION``) is not set to false. Loading such a model runs
code from it: load only models from sources you trust."""

from __future__ import annotations

import os

from mltrail.exceptions import MltrailException

_VARS = ("MLTRAIL_ALLOW_PICKLE_DESERIALIZATION", "MLFLOW_ALLOW_PICKLE_DESERIALIZATION")


def pickle_allowed() -> bool:
    for var in _VARS:
        value = os.environ.get(var)
        if value is not None:
            return value.strip().lower() not in ("false", "0", "no")
    return True


def check_pickle_allowed(what: str) -> None:
    if not pickle_allowed():
        raise MltrailException(
            f"Refusing to load {what}: loading it would unpickle code, and "
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false. Set it to true only for models "
            "from a source you trust.",
            error_code="PERMISSION_DENIED",
        )
