"""Seed 004 ("MLflow Tracking tutorial", penguins): the notebook's code run as scripts against
a live ``mltrail server`` (Databricks stands for a remote tracking server): metrics, plots and
a sklearn model that loads back; sklearn autolog around GridSearchCV; a Spark ML model; and
nested runs logged from Spark's pandas UDF workers by resuming the parent run by id."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from e2e_helpers import CliServer, clean_env  # noqa: E402

from mltrail.tracking.client import TrailClient  # noqa: E402

pytestmark = pytest.mark.timeout(400)

SCRIPTS = Path(__file__).parent / "penguin_scripts"


def output_value(output: str, key: str) -> str:
    return next(line.split()[1] for line in output.splitlines() if line.startswith(key + " "))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    folder = tmp_path_factory.mktemp("seed004-server")
    srv = CliServer([], folder, clean_env())
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def notebook(server: CliServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("seed004")
    shutil.copy(SCRIPTS / "penguins_sklearn.py", folder)
    proc = subprocess.run(
        [sys.executable, "penguins_sklearn.py"],
        cwd=folder,
        env=clean_env(MLFLOW_TRACKING_URI=server.url),
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder, proc.stdout


def test_metrics_plots_and_model(
    server: CliServer, notebook: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import mltrail.sklearn

    folder, output = notebook
    client = TrailClient(server.url)
    run = client.get_run(output_value(output, "LOGREG_RUN"))
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "/Users/your_id/penguin_logistic_regression"
    assert {"train_acc", "eval_acc", "auc_score"} <= set(run.data.metrics)
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"roc_plot.png", "conf_matrix.png"} <= files
    local = client.download_artifacts(run.info.run_id, "roc_plot.png", str(folder / "dl"))
    assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    model = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/logistic_regression")
    scaled_rows = np.random.default_rng(1).normal(size=(4, 6))
    predictions = model.predict(scaled_rows)
    assert len(predictions) == 4 and set(predictions) <= {0, 1}


def test_autolog_grid_search_parent_and_children(
    server: CliServer, notebook: tuple[Path, str]
) -> None:
    _, output = notebook
    client = TrailClient(server.url)
    parent = client.get_run(output_value(output, "RIDGE_RUN"))
    assert parent.data.params["estimator"] == "Ridge()"
    assert "best_cv_score" in parent.data.metrics
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    # As MLflow: max_tuning_runs=5 by default, so the five best-ranked candidates get runs.
    alphas = {float(c.data.params["alpha"]) for c in children}
    assert len(alphas) == 5 and alphas <= {0.05, 0.1, 0.5, 1.0, 2.0, 5.0}
    assert float(parent.data.params["best_alpha"]) in alphas
    assert all("mean_test_score" in c.data.metrics for c in children)
    artifacts = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert "cv_results.csv" in artifacts
    models = client.search_logged_models([parent.info.experiment_id])
    assert {m.name for m in models if m.source_run_id == parent.info.run_id} == {
        "model",
        "best_estimator",
    }


@pytest.fixture(scope="module")
def spark_notebook(server: CliServer, notebook: tuple[Path, str]) -> str:
    folder, _ = notebook
    shutil.copy(SCRIPTS / "penguins_spark.py", folder)
    proc = subprocess.run(
        [sys.executable, "penguins_spark.py"],
        cwd=folder,
        # Spark's Python workers run this interpreter (as a cluster's workers have mlflow).
        env=clean_env(MLFLOW_TRACKING_URI=server.url, PYSPARK_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return proc.stdout


def test_spark_model_logged_and_loads_back(server: CliServer, spark_notebook: str) -> None:
    client = TrailClient(server.url)
    run = client.get_run(output_value(spark_notebook, "SPARK_RUN"))
    assert {"train_acc", "eval_acc"} <= set(run.data.metrics)
    # Logged either as a logged model (MLflow 3) or as run artifacts (MLflow 2 layout).
    models = client.search_logged_models([run.info.experiment_id])
    as_models = {m.name for m in models if m.source_run_id == run.info.run_id}
    as_artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert "logistic_regression_pyspark" in as_models | as_artifacts, (as_models, as_artifacts)
    # The script loaded it back with mlflow.spark.load_model and scored the test split.
    assert int(output_value(spark_notebook, "SPARK_RELOADED")) > 0


def test_nested_runs_from_pandas_udf_workers(server: CliServer, spark_notebook: str) -> None:
    client = TrailClient(server.url)
    parent = client.get_run(output_value(spark_notebook, "PARENT_RUN"))
    assert parent.info.run_name == "섬 별 클러스터링"
    assert parent.info.status == "FINISHED"
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    names = sorted(c.info.run_name for c in children)
    assert names == sorted(
        f"{island}-eps{eps}" for island in ("Biscoe", "Dream", "Torgersen") for eps in (0.5, 1.5)
    )
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"silhouette", "n_clusters"} <= set(child.data.metrics)
        assert child.data.params["eps"] in {"0.5", "1.5"}
