"""Entities: the plain records every layer passes around (MLflow's names).

The records load with their module on first use (``from mltrail.entities import Run``), so a
caller that needs the run records does not also build the registry's and logged models'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mltrail.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from mltrail.lazy import lazy_attributes, names_by_module

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

_LAZY = names_by_module(
    (
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
)  # fmt: skip
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

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
