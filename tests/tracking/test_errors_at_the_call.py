"""Errors MLflow raises at the call are raised at the call, even though writes are buffered;
and what was logged around a refused call is kept (the differential suite compares the same
calls with MLflow; these pin mltrail's side where it deliberately differs)."""

from __future__ import annotations

import pytest

import mltrail
from mltrail.exceptions import InvalidParameter, NotFound


def test_step_past_int64_raises_at_the_call_and_loses_nothing() -> None:
    with mltrail.start_run() as run:
        mltrail.log_metric("m", 1.0, step=0)
        with pytest.raises(InvalidParameter) as refused:
            mltrail.log_metric("m", 2.0, step=2**63)
        assert isinstance(refused.value, OverflowError)  # as MLflow's driver error is
        mltrail.log_metric("m", 3.0, step=2**63 - 1)
    history = mltrail.MlflowClient().get_metric_history(run.info.run_id, "m")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (2**63 - 1, 3.0)]
    assert mltrail.get_run(run.info.run_id).info.status == "FINISHED"


def test_writes_to_a_missing_or_deleted_run_raise_at_the_call() -> None:
    client = mltrail.MlflowClient()
    with pytest.raises(NotFound) as missing:
        client.log_metric("f" * 32, "m", 1.0)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "m", 1.0)  # known now: no lookup on the hot path
    client.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="active"):
        client.set_tag(run_id, "t", "v")
    client.flush()  # nothing was queued for it, so nothing fails later


def test_synchronous_false_returns_operations_to_wait_on() -> None:
    with mltrail.start_run() as run:
        operations = mltrail.log_metrics({"a": 1.0, "b": 2.0}, synchronous=False)
        operations.wait()
        stored = mltrail.MlflowClient().store.get_run(run.info.run_id).data.metrics
        assert stored == {"a": 1.0, "b": 2.0}  # read from the store itself, not through flush
