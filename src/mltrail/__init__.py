"""mltrail: track, compare, package and serve machine-learning work; MLflow-compatible.

``import mltrail as mlflow`` runs code written for MLflow. Importing stays light: databases,
pandas and ML libraries load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mltrail.entities import RunStatus, ViewType
from mltrail.exceptions import MlflowException, MltrailException
from mltrail.lazy import names_by_module
from mltrail.version import __version__

if TYPE_CHECKING:
    from mltrail.tracking.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        end_run,
        get_experiment,
        get_experiment_by_name,
        get_parent_run,
        get_run,
        get_tracking_uri,
        is_tracking_uri_set,
        last_active_run,
        search_experiments,
        set_experiment,
        set_experiment_tag,
        set_experiment_tags,
        set_tracking_uri,
        start_run,
    )
    from mltrail.tracking.fluent_artifacts import (
        get_artifact_uri,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_image,
        log_text,
    )
    from mltrail.tracking.fluent_inputs import log_input, log_inputs
    from mltrail.tracking.fluent_logging import (
        delete_tag,
        flush,
        flush_async_logging,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        set_tag,
        set_tags,
    )
    from mltrail.tracking.fluent_more import (
        delete_experiment_tag,
        delete_logged_model_tag,
        finalize_logged_model,
        initialize_logged_model,
        last_logged_model,
        log_model_params,
        log_outputs,
        log_table,
        restore_experiment,
        restore_run,
        set_logged_model_tags,
    )
    from mltrail.tracking.fluent_registry import (
        get_registry_uri,
        register_model,
        search_model_versions,
        search_registered_models,
        set_registry_uri,
    )
    from mltrail.tracking.fluent_search import get_logged_model, search_logged_models, search_runs

# The fluent API, loaded on first use: ``import mltrail`` (and so every ``mltrail`` command,
# ``python -m mltrail``) does not pay for the tracking client until a function is called.
_LAZY_FUNCTIONS = names_by_module(
    (
        ("mltrail.tracking.fluent", """
            ActiveRun active_run create_experiment delete_experiment delete_run end_run
            get_experiment get_experiment_by_name get_parent_run get_run get_tracking_uri
            is_tracking_uri_set last_active_run search_experiments set_experiment
            set_experiment_tag set_experiment_tags set_tracking_uri start_run
        """),
        ("mltrail.tracking.fluent_artifacts", """
            get_artifact_uri log_artifact log_artifacts log_dict log_figure log_image log_text
        """),
        ("mltrail.tracking.fluent_inputs", """
            log_input log_inputs
        """),
        ("mltrail.tracking.fluent_logging", """
            delete_tag flush flush_async_logging log_metric log_metrics log_param log_params
            set_tag set_tags
        """),
        ("mltrail.tracking.fluent_more", """
            delete_experiment_tag delete_logged_model_tag finalize_logged_model
            initialize_logged_model last_logged_model log_model_params log_outputs log_table
            restore_experiment restore_run set_logged_model_tags
        """),
        ("mltrail.tracking.fluent_registry", """
            get_registry_uri register_model search_model_versions search_registered_models
            set_registry_uri
        """),
        ("mltrail.tracking.fluent_search", """
            get_logged_model search_logged_models search_runs
        """),
    )
)  # fmt: skip


# Submodules loaded on first attribute access (``mltrail.sklearn``, ``mltrail.entities``...).
_LAZY_MODULES = {
    "artifacts",
    "autologging",
    "data",
    "entities",
    "environment_variables",
    "exceptions",
    "lightgbm",
    "projects",
    "pyfunc",
    "pytorch",
    "sklearn",
    "spark",
    "models",
    "tracking",
    "types",
    "xgboost",
    "server",
}


_AUTOLOG_FUNCTIONS = {
    "autolog": "mltrail.autologging",
    "enable_system_metrics_logging": "mltrail.companions.system_metrics",
    "disable_system_metrics_logging": "mltrail.companions.system_metrics",
    "set_system_metrics_sampling_interval": "mltrail.companions.system_metrics",
    "set_system_metrics_samples_before_logging": "mltrail.companions.system_metrics",
    "set_system_metrics_node_id": "mltrail.companions.system_metrics",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_FUNCTIONS:
        value = getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    if name in _LAZY_MODULES:
        try:
            return importlib.import_module(f"mltrail.{name}")
        except ModuleNotFoundError as exc:
            # Only a missing submodule itself means "no such attribute"; a missing dependency
            # inside an existing submodule (e.g. torch for mltrail.pytorch) is a real error.
            if exc.name != f"mltrail.{name}":
                raise
            raise AttributeError(f"module 'mltrail' has no attribute {name!r}") from None
    if name in _AUTOLOG_FUNCTIONS:
        # Functions, not a subpackage: ``mltrail.autolog()`` must be callable.
        module = importlib.import_module(_AUTOLOG_FUNCTIONS[name])
        return getattr(module, name)
    if name in ("MlflowClient", "TrailClient"):
        from mltrail.tracking.client import TrailClient

        return TrailClient
    raise AttributeError(f"module 'mltrail' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ActiveRun",
    "MlflowException",
    "MltrailException",
    "RunStatus",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "finalize_logged_model",
    "flush",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_registry_uri",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
