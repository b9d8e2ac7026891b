"""The run an autologged call writes to, and the few write helpers every integration shares.

Inside a user's run, autologging writes there and adds no tags of its own. Without one, it
creates a run tagged ``mlflow.autologging=<flavor>`` (plus ``extra_tags``) and ends it after the
call: FINISHED, or FAILED when the user's code raised. ``exclusive=True`` keeps autologging out
of user runs altogether. Metrics go through the client's write buffer (no round trip per step);
params are written once per fit and synchronously, so a conflict is reported here as a warning
rather than raised later from the user's own ``end_run``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mltrail.autologging import safety
from mltrail.entities import Param, RunTag
from mltrail.exceptions import MltrailException
from mltrail.tracking import fluent
from mltrail.tracking.client import TrailClient
from mltrail.utils.validation import MAX_PARAM_VAL_LENGTH

AUTOLOGGING_TAG = "mlflow.autologging"


def client() -> TrailClient:
    return fluent._get_client()


@contextmanager
def autolog_run(flavor: str, options: Mapping[str, Any]) -> Iterator[str | None]:
    """Yield the run id to log to, or None when nothing must be logged (``exclusive`` inside a
    user run, or the tracking store cannot be reached: the user's call still runs)."""
    active = fluent.active_run()
    if active is not None:
        yield None if options.get("exclusive") else active.info.run_id
        return
    tags = {AUTOLOGGING_TAG: flavor}
    tags.update({str(k): str(v) for k, v in (options.get("extra_tags") or {}).items()})
    try:
        run = fluent.start_run(tags=tags)
    except Exception as exc:  # noqa: BLE001 - no tracking must not mean no training
        safety.warn_failure(flavor, exc)
        yield None
        return
    run_id = run.info.run_id
    safety.info(
        flavor,
        "Created mltrail autologging run with ID '%s', which will track hyperparameters, "
        "performance metrics, model artifacts, and lineage information for the current %s "
        "workflow",
        run_id,
        flavor,
    )
    status = "FAILED"
    try:
        yield run_id
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        _end_own_run(flavor, run_id, status)


def _end_own_run(flavor: str, run_id: str, status: str) -> None:
    active = fluent.active_run()
    try:
        if active is not None and active.info.run_id == run_id:
            fluent.end_run(status)
        else:  # the user's code ended it, or started another on top: end ours by id
            client().set_terminated(run_id, status)
    except Exception as exc:  # noqa: BLE001
        safety.warn_failure(flavor, exc)


def param_text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_VAL_LENGTH else text[: MAX_PARAM_VAL_LENGTH - 3] + "..."


def log_params(flavor: str, run_id: str, params: Mapping[str, Any]) -> None:
    """Write params in one batch; a param the run already has with another value is reported
    (one warning) and the others still land."""
    items = [Param(str(k), param_text(v)) for k, v in params.items()]
    if not items:
        return
    writer = client()
    try:
        writer.log_batch(run_id, params=items)
        return
    except MltrailException:
        pass
    for item in items:
        try:
            writer.log_batch(run_id, params=[item])
        except MltrailException as exc:
            safety.warn_failure(flavor, exc)


def set_tags(run_id: str, tags: Mapping[str, Any]) -> None:
    client().log_batch(run_id, tags=[RunTag(str(k), str(v)) for k, v in tags.items()])


def log_metrics(run_id: str, metrics: Mapping[str, Any], step: int = 0) -> None:
    """Buffered metric writes (values that are not finite numbers are skipped)."""
    writer = client()
    for key, value in metrics.items():
        number = to_float(value)
        if number is not None:
            writer.log_metric(run_id, key, number, step=step)


def to_float(value: Any) -> float | None:
    try:
        if hasattr(value, "item"):  # numpy scalars, one-element tensors
            value = value.item()
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        return None
