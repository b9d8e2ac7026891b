"""mltrail's own model layer with the registry, end to end: ``log_model(...,
registered_model_name=...)``, ``register_model`` from a run, and loading by
``models:/<name>/<version>``, ``@<alias>``, ``/latest`` and ``/<stage>``, on the embedded store
and against a live server."""

from __future__ import annotations

import os

import pytest

import mltrail

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
sklearn = pytest.importorskip("sklearn")


@pytest.fixture(params=["sqlite", "server"])
def tracking(request, tmp_path) -> str:
    if request.param == "sqlite":
        uri = "sqlite:///" + str(tmp_path / "mltrail.db")
    else:
        from live_servers import ThreadServer, settings_for

        server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
        request.addfinalizer(server.stop)
        uri = server.url
    mltrail.set_tracking_uri(uri)
    return uri


def test_log_register_alias_and_load(tracking):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    first = LogisticRegression().fit(features, [0, 0, 1, 1])
    second = LogisticRegression().fit(features, [1, 1, 0, 0])
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(first, name="model", registered_model_name="churn")
    assert str(info.registered_model_version) == "1"
    with mltrail.start_run() as run2:
        mltrail.sklearn.log_model(second, name="model")
    v2 = mltrail.register_model(f"runs:/{run2.info.run_id}/model", "churn")
    assert v2.version == 2 and v2.model_id is not None  # the run's logged model was found

    client = mltrail.TrailClient()
    client.set_registered_model_alias("churn", "champion", 1)
    client.transition_model_version_stage("churn", 2, "Staging")
    expected_first = list(first.predict(features))
    expected_second = list(second.predict(features))
    for uri, expected in (
        ("models:/churn/1", expected_first),
        ("models:/churn@champion", expected_first),
        ("models:/churn/latest", expected_second),
        ("models:/churn/Staging", expected_second),
    ):
        loaded = mltrail.pyfunc.load_model(uri)
        assert list(loaded.predict(features)) == expected, uri
    # Promoting is moving the alias: the same URI now loads the other model.
    client.set_registered_model_alias("churn", "champion", 2)
    assert list(mltrail.sklearn.load_model("models:/churn@champion").predict(features)) == (
        expected_second
    )
    assert client.get_model_version("churn", 1).run_id == run.info.run_id


def test_models_serve_by_alias(tmp_path, monkeypatch):
    """``mltrail models serve -m models:/<name>@champion`` in its own process: the alias
    resolves through the registry of the tracking URI, and the served model answers."""
    import httpx
    import numpy as np
    from scoring_servers import ScoringServer
    from sklearn.linear_model import LogisticRegression

    uri = "sqlite:///" + str(tmp_path / "mltrail.db")
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", uri)
    mltrail.set_tracking_uri(uri)
    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(features, [0, 0, 1, 1])
    with mltrail.start_run():
        mltrail.sklearn.log_model(
            model, name="model", registered_model_name="served", serialization_format="cloudpickle"
        )
    mltrail.TrailClient().set_registered_model_alias("served", "champion", 1)
    server = ScoringServer("models:/served@champion", cwd=str(tmp_path)).wait()
    try:
        answer = httpx.post(
            server.url + "/invocations", json={"inputs": [[0.0], [3.0]]}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == [0, 1]
    finally:
        server.stop()
