"""What runs alongside a run, started by ``start_run`` and stopped by ``end_run``: system
metrics, console capture and code capture. Each is off unless asked for, and checking costs
a couple of lookups (this is on every ``start_run``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("mltrail.tracking")

_started: set[str] = set()

# (run_id, client, resumed) -> None, registered by higher layers (Spark datasource autologging
# tags new runs with the sources read so far) without tracking importing them.
StartHook = Callable[[str, Any, bool], None]
_start_hooks: list[StartHook] = []


def add_start_hook(hook: StartHook) -> None:
    if hook not in _start_hooks:
        _start_hooks.append(hook)


def remove_start_hook(hook: StartHook) -> None:
    if hook in _start_hooks:
        _start_hooks.remove(hook)


def on_run_start(run_id: str, client: Any, log_system_metrics: bool | None, resumed: bool) -> None:
    from mltrail.companions import code_capture, console
    from mltrail.companions import system_metrics as sysm

    if sysm.wanted(log_system_metrics):
        sysm.start_for_run(run_id, client)  # raises a clear error without psutil, as MLflow
        _started.add(run_id)
    if console.enabled():
        _safely(console.start_for_run, run_id, client)
        _started.add(run_id)
    if code_capture.enabled() and not resumed:
        _safely(code_capture.capture, run_id, client)
    for hook in list(_start_hooks):
        _safely(hook, run_id, client, resumed)


def on_run_end(run_id: str) -> None:
    if run_id not in _started:
        return
    _started.discard(run_id)
    from mltrail.companions import console
    from mltrail.companions import system_metrics as sysm

    _safely(sysm.stop_for_run, run_id)
    _safely(console.stop_for_run, run_id)


def _safely(action: Any, *args: Any) -> None:
    try:
        action(*args)
    except Exception as exc:  # noqa: BLE001 - a companion must never fail the run itself
        logger.warning("mltrail: %s failed: %s", getattr(action, "__qualname__", action), exc)
