"""``mltrail``, ``mltrail.entities`` and ``mltrail.tracking`` load their modules on first use:
importing them is cheap, and every name they list still resolves to the real object."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

FACADES = ("mltrail", "mltrail.entities", "mltrail.tracking")


def test_importing_mltrail_loads_no_client() -> None:
    probe = (
        "import sys\n"
        "import mltrail\n"
        "heavy = ('mltrail.tracking.fluent', 'mltrail.tracking.client', 'mltrail.store.base',\n"
        "         'mltrail.entities.registry', 'mltrail.entities.logged_models', 'yaml')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
        "mltrail.start_run\n"
        "print('AFTER', 'mltrail.tracking.fluent' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
    assert "AFTER True" in done.stdout


def test_submodules_are_reachable_as_attributes() -> None:
    # MLflow code reaches into ``mlflow.tracking.fluent`` after a bare ``import mlflow``.
    probe = (
        "import mltrail\n"
        "print(mltrail.tracking.fluent.active_run() is None,\n"
        "      mltrail.tracking.client.MlflowClient.__name__,\n"
        "      mltrail.entities.registry.ModelVersion.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "TrailClient", "ModelVersion"]


@pytest.mark.parametrize("name", FACADES)
def test_every_listed_name_resolves(name: str) -> None:
    facade = importlib.import_module(name)
    for attr in facade.__all__:
        value = getattr(facade, attr)
        assert value is not None, attr
        assert attr in dir(facade)
    with pytest.raises(AttributeError):
        facade.no_such_name  # noqa: B018


def test_names_are_the_real_objects() -> None:
    import mltrail
    from mltrail import entities, tracking
    from mltrail.entities.registry import ModelVersion
    from mltrail.entities.tracking import Run
    from mltrail.tracking import client, fluent, fluent_logging

    assert mltrail.start_run is fluent.start_run
    assert mltrail.log_metric is fluent_logging.log_metric
    assert mltrail.MlflowClient is client.TrailClient
    assert entities.Run is Run and entities.ModelVersion is ModelVersion
    assert tracking.TrailClient is client.TrailClient
    from mltrail import set_tag  # from-imports go through the same lookup

    assert set_tag is fluent_logging.set_tag
