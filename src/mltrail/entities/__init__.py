"""Entities: the plain records every layer passes around (MLflow's names).

The records load with their module on first use (``from mltrail.entities import Run``), so a
caller that needs the run records does not also build the registry's and logged models'.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mltrail.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType

if TYPE_CHECKING:
    from mltrail.entities.logged_models import (
        LoggedModel,
        LoggedModelParam,
        LoggedModelParameter,
        LoggedModelStatus,
        LoggedModelTag,
    )
    from mltrail.entities.registry import (
        ModelVersion,
        ModelVersionStage,
        ModelVersionStatus,
        ModelVersionTag,
        RegisteredModel,
        RegisteredModelAlias,
        RegisteredModelTag,
    )
    from mltrail.entities.tracking import (
        Dataset,
        DatasetInput,
        Experiment,
        ExperimentTag,
        FileInfo,
        InputTag,
        LoggedModelInput,
        LoggedModelOutput,
        Metric,
        PagedList,
        Param,
        Run,
        RunData,
        RunInfo,
        RunInputs,
        RunOutputs,
        RunTag,
    )

_LAZY: dict[str, str] = {
    name: module
    for module, names in (
        ("mltrail.entities.logged_models", """
            LoggedModel LoggedModelParam LoggedModelParameter LoggedModelStatus LoggedModelTag
        """),
        ("mltrail.entities.registry", """
            ModelVersion ModelVersionStage ModelVersionStatus ModelVersionTag RegisteredModel
            RegisteredModelAlias RegisteredModelTag
        """),
        ("mltrail.entities.tracking", """
            Dataset DatasetInput Experiment ExperimentTag FileInfo InputTag LoggedModelInput
            LoggedModelOutput Metric PagedList Param Run RunData RunInfo RunInputs RunOutputs
            RunTag
        """),
    )
    for name in names.split()
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # ``mltrail.entities.<submodule>`` without importing it first, as when the package loaded
        # its modules eagerly.
        try:
            return importlib.import_module(f"mltrail.entities.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mltrail.entities.{name}":
                raise
        raise AttributeError(f"module 'mltrail.entities' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelParam",
    "LoggedModelParameter",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PagedList",
    "Param",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
