"""System-metrics settings, MLflow's names: an environment variable for each, overridden by the
setter functions. Reading them imports nothing heavy (``start_run`` does it every time)."""

from __future__ import annotations

import os

DEFAULT_INTERVAL_SECONDS = 10.0
DEFAULT_SAMPLES_BEFORE_LOGGING = 1

_enabled: bool | None = None
_interval: float | None = None
_samples: int | None = None
_node_id: str | None = None


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def enabled_globally() -> bool:
    if _enabled is not None:
        return _enabled
    return _env_true("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")


def set_enabled(value: bool | None) -> None:
    global _enabled
    _enabled = value


def sampling_interval() -> float:
    if _interval is not None:
        return _interval
    raw = os.environ.get("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL")
    return float(raw) if raw else DEFAULT_INTERVAL_SECONDS


def set_sampling_interval(seconds: float | None) -> None:
    global _interval
    if seconds is not None and seconds <= 0:
        from mltrail.exceptions import InvalidParameter

        raise InvalidParameter(
            f"The sampling interval must be a positive number of seconds, not {seconds}."
        )
    _interval = seconds


def samples_before_logging() -> int:
    if _samples is not None:
        return _samples
    raw = os.environ.get("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING")
    return max(1, int(raw)) if raw else DEFAULT_SAMPLES_BEFORE_LOGGING


def set_samples_before_logging(samples: int | None) -> None:
    global _samples
    if samples is not None and samples < 1:
        from mltrail.exceptions import InvalidParameter

        raise InvalidParameter(f"samples_before_logging must be at least 1, not {samples}.")
    _samples = samples


def node_id() -> str | None:
    return (
        _node_id
        if _node_id is not None
        else os.environ.get("MLFLOW_SYSTEM_METRICS_NODE_ID") or None
    )


def set_node_id(value: str | None) -> None:
    global _node_id
    _node_id = value
