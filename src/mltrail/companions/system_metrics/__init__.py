"""System metrics (``system/cpu_utilization_percentage``...) sampled in the background for a
run: ``start_run(log_system_metrics=True)``, ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true`` or
``mltrail.enable_system_metrics_logging()``. Needs psutil; NVIDIA GPUs need nvidia-ml-py."""

from __future__ import annotations

import threading
from typing import Any

from mltrail.companions.system_metrics import settings

_monitors: dict[str, Any] = {}
_lock = threading.Lock()


def enable_system_metrics_logging() -> None:
    settings.set_enabled(True)


def disable_system_metrics_logging() -> None:
    settings.set_enabled(False)


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    settings.set_sampling_interval(interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    settings.set_samples_before_logging(samples)


def set_system_metrics_node_id(node_id: str | None) -> None:
    settings.set_node_id(node_id)


def wanted(log_system_metrics: bool | None) -> bool:
    return settings.enabled_globally() if log_system_metrics is None else bool(log_system_metrics)


def start_for_run(run_id: str, client: Any) -> None:
    try:
        import psutil  # noqa: F401
    except ImportError:
        from mltrail.exceptions import MltrailException

        raise MltrailException(
            "Failed to start system metrics monitoring as package `psutil` is not installed. "
            "Please run `pip install psutil` (or `pip install mltrail[system-metrics]`)."
        ) from None
    from mltrail.companions.system_metrics.monitor import SystemMetricsMonitor

    with _lock:
        if run_id in _monitors:
            return
        monitor = SystemMetricsMonitor(run_id, client)
        _monitors[run_id] = monitor
    monitor.start()


def stop_for_run(run_id: str) -> None:
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stop()


__all__ = [
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
]
