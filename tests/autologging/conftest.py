"""Autologging tests: each starts with every integration off and its original methods back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _autologging_off() -> Iterator[None]:
    yield
    from mltrail.autologging import INTEGRATIONS, config, safety
    from mltrail.autologging import spark as spark_autolog
    from mltrail.companions import console

    spark_autolog.forget()

    for flavor in INTEGRATIONS:
        safety.unpatch_all(flavor)
    config.reset()
    console.enable(None)  # type: ignore[arg-type]
    from mltrail.companions import code_capture
    from mltrail.companions.system_metrics import settings

    code_capture._enabled = None
    settings.set_enabled(None)
    settings.set_sampling_interval(None)
    settings.set_samples_before_logging(None)
    settings.set_node_id(None)


@pytest.fixture
def client():
    import mltrail

    return mltrail.TrailClient()


@pytest.fixture
def blobs():
    """A small synthetic two-class table (features, labels) split 90/30."""
    import numpy as np

    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x[:90], x[90:], y[:90], y[90:]


def all_runs(client, experiment_id: str = "0") -> list:
    return list(client.search_runs([experiment_id]))
