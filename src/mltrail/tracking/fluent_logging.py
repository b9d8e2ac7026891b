"""The fluent logging calls: ``log_metric``, ``log_param``, ``set_tag`` and their batch forms,
into the active run of this thread or task (or ``run_id``), through the client that started
it."""

from __future__ import annotations

from typing import Any

from mltrail.entities import Param
from mltrail.tracking.fluent import _active_run_id, _active_runs, _get_client, _writer
from mltrail.tracking.operations import RunOperations
from mltrail.utils import validation as v


# -- logging ---------------------------------------------------------------------------------
# ``synchronous=False`` returns a ``RunOperations`` (wait() flushes), as MLflow's calls do.
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    client, rid = _writer()
    return client.log_param(rid, key, value, synchronous)


def log_params(
    params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """One write: when one of the params was logged before with another value, none is."""
    client, rid = _writer(run_id)
    checked = [
        Param(v.validate_key(key, "param key"), v.param_value_str(key, value))
        for key, value in params.items()
    ]
    return client.log_batch(rid, params=checked, synchronous=synchronous)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    **_ignored: Any,
) -> RunOperations | None:
    stack = _active_runs.get()
    if run_id is None and stack:
        # A training loop's hot path: the client that started the active run, without
        # re-reading the tracking URI settings (two environment lookups, half the cost).
        run = stack[-1]
        if run._client is not None:
            return run._client.log_metric(run._run_id, key, value, timestamp, step, synchronous)
    return _get_client().log_metric(
        _active_run_id(run_id), key, value, timestamp, step, synchronous
    )


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    **_ignored: Any,
) -> RunOperations | None:
    client, rid = _writer(run_id)
    for key, value in metrics.items():
        client.log_metric(rid, key, value, timestamp, step, synchronous or None)
    return RunOperations(client.flush) if synchronous is False else None


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    client, rid = _writer()
    return client.set_tag(rid, key, value, synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    client, rid = _writer()
    for key, value in tags.items():
        client.set_tag(rid, key, value, synchronous or None)
    return RunOperations(client.flush) if synchronous is False else None


def delete_tag(key: str) -> None:
    _get_client().delete_tag(_active_run_id(), key)


def flush(run_id: str | None = None) -> None:
    """Write every buffered metric, param and tag now."""
    _get_client().flush()


# MLflow's name for the same thing.
flush_async_logging = flush
