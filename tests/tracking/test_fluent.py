"""The fluent API, end to end on the embedded default and on PostgreSQL."""

from __future__ import annotations

import json
import math
import os

import pytest

import mltrail
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound


def test_embedded_default_needs_no_setup(tmp_path):
    mltrail.set_experiment("penguins")
    with mltrail.start_run(run_name="ridge") as run:
        mltrail.log_param("alpha", 0.5)
        mltrail.log_params({"solver": "auto", "fit_intercept": True})
        for step in range(100):
            mltrail.log_metric("train_loss", 1 / (step + 1), step=step)
        mltrail.log_metrics({"eval_acc": 0.91, "auc": 0.88})
        mltrail.set_tag("team", "vision")
        assert mltrail.active_run().info.run_id == run.info.run_id
    assert (tmp_path / "mltrail.db").exists()
    assert mltrail.get_tracking_uri() == "sqlite:///" + str(tmp_path / "mltrail.db")
    finished = mltrail.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED"
    assert finished.info.end_time is not None
    assert finished.data.params == {"alpha": "0.5", "solver": "auto", "fit_intercept": "True"}
    assert finished.data.metrics["eval_acc"] == 0.91
    assert finished.data.metrics["train_loss"] == 1 / 100
    assert finished.data.tags["team"] == "vision"
    assert finished.data.tags["mlflow.user"]
    assert finished.data.tags["mlflow.source.type"] == "LOCAL"
    history = mltrail.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in history] == list(range(100))


def test_run_block_failure_marks_failed():
    with pytest.raises(ZeroDivisionError), mltrail.start_run() as run:
        mltrail.log_metric("m", 1.0)
        1 / 0  # noqa: B018
    failed = mltrail.get_run(run.info.run_id)
    assert failed.info.status == "FAILED"
    assert failed.data.metrics["m"] == 1.0


def test_nested_runs_and_parent_tag():
    with mltrail.start_run() as parent:
        with pytest.raises(InvalidParameter, match="already active"):
            mltrail.start_run()
        with mltrail.start_run(nested=True) as child:
            assert mltrail.active_run().info.run_id == child.info.run_id
        assert mltrail.active_run().info.run_id == parent.info.run_id
    child_run = mltrail.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert mltrail.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id
    assert mltrail.last_active_run().info.run_id == parent.info.run_id


def test_resume_run_by_id_from_another_client():
    with mltrail.start_run() as run:
        mltrail.log_metric("m", 1.0, step=0)
    with mltrail.start_run(run_id=run.info.run_id):
        mltrail.log_metric("m", 2.0, step=1)
    resumed = mltrail.get_run(run.info.run_id)
    assert resumed.data.metrics["m"] == 2.0
    assert resumed.info.status == "FINISHED"
    with pytest.raises(NotFound, match="Cannot resume"):
        mltrail.start_run(run_id="0" * 32)


def test_start_run_in_unknown_experiment_fails_clearly():
    with pytest.raises(NotFound, match="no experiment with that id exists"):
        mltrail.start_run(experiment_id="4242")
    assert mltrail.active_run() is None


def test_set_experiment_by_name_or_id_and_env(monkeypatch):
    exp = mltrail.set_experiment("first")
    assert mltrail.set_experiment(experiment_id=exp.experiment_id).name == "first"
    with mltrail.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    mltrail.tracking.fluent._active_experiment.reset()
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    with mltrail.start_run() as run:
        pass
    assert mltrail.get_experiment(run.info.experiment_id).name == "from-env"


def test_description_and_tags_at_start():
    with mltrail.start_run(description="# hello", tags={"a": 1}) as run:
        pass
    tags = mltrail.get_run(run.info.run_id).data.tags
    assert tags["mlflow.note.content"] == "# hello" and tags["a"] == "1"


def test_artifacts_text_dict_image_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    plot = tmp_path / "roc_plot.png"
    plot.write_bytes(b"\x89PNG fake")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    with mltrail.start_run() as run:
        mltrail.log_artifact(str(plot))
        mltrail.log_text("notes", "notes.txt")
        mltrail.log_dict({"a": 1}, "cfg.json")
        mltrail.log_dict({"b": 2}, "conf/cfg.yaml")
        mltrail.log_figure(fig, "confusion.png")
        mltrail.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "sample.png")
        uri = mltrail.get_artifact_uri()
    client = mltrail.MlflowClient()
    names = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert names == {"roc_plot.png", "notes.txt", "cfg.json", "conf", "confusion.png", "sample.png"}
    local = client.download_artifacts(run.info.run_id, "cfg.json", str(tmp_path / "dl"))
    with open(local) as f:
        assert json.loads(f.read()) == {"a": 1}
    assert os.path.isfile(os.path.join(uri, "conf", "cfg.yaml"))
    from mltrail.artifacts import download_artifacts

    folder = download_artifacts(
        run_id=run.info.run_id, artifact_path="conf", dst_path=str(tmp_path / "d2")
    )
    assert os.listdir(folder) == ["cfg.yaml"]
    with pytest.raises(InvalidParameter):
        mltrail.log_artifact(str(tmp_path / "missing.png"), run_id=run.info.run_id)
    with pytest.raises(InvalidParameter, match="'..' is not allowed"):
        mltrail.log_text("x", "../escape.txt", run_id=run.info.run_id)


def test_search_runs_dataframe_and_list():
    mltrail.set_experiment("s")
    for i, solver in enumerate(["auto", "auto", "lbfgs"]):
        with mltrail.start_run():
            mltrail.log_param("solver", solver)
            mltrail.log_metric("eval_acc", 0.85 + i * 0.05)
    df = mltrail.search_runs(
        filter_string="metrics.eval_acc > 0.86 and params.solver = 'auto'",
        order_by=["metrics.eval_acc DESC"],
    )
    assert list(df["metrics.eval_acc"]) == [pytest.approx(0.90)]
    assert "params.solver" in df.columns and "tags.mlflow.runName" in df.columns
    runs = mltrail.search_runs(output_format="list", order_by=["metrics.eval_acc ASC"])
    assert [r.data.params["solver"] for r in runs] == ["auto", "auto", "lbfgs"]
    with pytest.raises(MltrailException):
        mltrail.search_runs(filter_string="metrics.eval_acc >> 1")


def test_bad_input_raises_at_the_call():
    with mltrail.start_run() as run:
        with pytest.raises(InvalidParameter, match="valid double"):
            mltrail.log_metric("m", "not a number")
        with pytest.raises(InvalidParameter, match="alphanumerics"):
            mltrail.log_param("bad*key", 1)
        with pytest.raises(InvalidParameter, match="maximum"):
            mltrail.set_tag("t", "x" * 16385)
        mltrail.set_tag("whole", "x" * 16384)  # stored whole, never cut
    assert len(mltrail.get_run(run.info.run_id).data.tags["whole"]) == 16384
    assert mltrail.get_run(run.info.run_id).data.metrics == {}


def test_param_change_raises_at_the_call():
    run = mltrail.start_run()
    mltrail.log_param("p", 1)
    with pytest.raises(InvalidParameter, match="Changing param values"):
        mltrail.log_param("p", 2)
    mltrail.end_run()  # nothing left to fail here
    assert mltrail.get_run(run.info.run_id).data.params == {"p": "1"}


def test_nan_and_inf_are_kept():
    with mltrail.start_run() as run:
        mltrail.log_metric("nan", float("nan"))
        mltrail.log_metric("inf", float("inf"))
    data = mltrail.get_run(run.info.run_id).data
    assert math.isnan(data.metrics["nan"]) and data.metrics["inf"] == math.inf


def test_synchronous_write_through(tmp_path):
    from mltrail.store.sql.store import SqlStore

    with mltrail.start_run() as run:
        mltrail.log_metric("m", 3.0, synchronous=True)
        other = SqlStore(mltrail.get_tracking_uri(), str(tmp_path))
        assert other.get_run(run.info.run_id).data.metrics["m"] == 3.0


def test_malformed_tracking_uri():
    with pytest.raises(InvalidParameter, match="Unsupported tracking URI scheme"):
        mltrail.set_tracking_uri("ftp://example/db")
    with pytest.raises(InvalidParameter):
        mltrail.set_tracking_uri("")


def test_unreachable_database_is_one_clear_error(tmp_path):
    mltrail.set_tracking_uri("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(MltrailException, match="could not be used"):
        mltrail.start_run()


@pytest.mark.postgres
def test_fluent_api_on_postgres(pg_uri):
    mltrail.set_tracking_uri(pg_uri)
    mltrail.set_experiment("pg")
    with mltrail.start_run() as run:
        for step in range(500):
            mltrail.log_metric("loss", 1 / (step + 1), step=step)
        mltrail.log_param("p", "x")
    client = mltrail.MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 500
    assert (
        mltrail.search_runs(filter_string="params.p = 'x'", output_format="list")[0].info.run_id
        == run.info.run_id
    )


def test_param_changed_within_one_buffered_batch_is_refused_not_replaced():
    run = mltrail.start_run()
    mltrail.log_param("p", 1)
    mltrail.log_metric("m", 1.0, step=0)
    with pytest.raises(InvalidParameter, match="Changing param values"):
        mltrail.log_param("p", 2)  # refused at the call, the points around it kept
    mltrail.log_metric("m", 2.0, step=1)
    mltrail.end_run()
    data = mltrail.get_run(run.info.run_id).data
    assert data.params == {"p": "1"}
    assert [m.value for m in mltrail.MlflowClient().get_metric_history(run.info.run_id, "m")] == [
        1.0,
        2.0,
    ]
