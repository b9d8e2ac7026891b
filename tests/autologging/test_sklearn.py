"""scikit-learn autologging with real estimators on synthetic data."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from conftest_helpers import artifact_paths, runs_in

import mltrail
from mltrail.autologging import sklearn as sklearn_autolog

pytest.importorskip("sklearn")


def test_logistic_regression_logs_params_tags_training_metrics_and_dataset(blobs):
    from sklearn.linear_model import LogisticRegression

    sklearn_autolog.autolog()
    x_train, _x_test, y_train, _y_test = blobs
    LogisticRegression(max_iter=200).fit(x_train, y_train)

    assert mltrail.active_run() is None  # the run autologging made is ended after fit
    run = mltrail.last_active_run()
    assert run.info.status == "FINISHED"
    assert run.data.params["max_iter"] == "200"
    assert run.data.params["C"] == "1.0"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    expected = {
        "training_score",
        "training_accuracy_score",
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
    }
    assert expected <= set(run.data.metrics)
    model = LogisticRegression(max_iter=200).fit(x_train, y_train)  # unlogged twin: same numbers
    assert run.data.metrics["training_score"] == pytest.approx(model.score(x_train, y_train))
    assert {
        "estimator.html",
        "training_confusion_matrix.png",
        "training_roc_curve.png",  # a binary classifier
        "training_precision_recall_curve.png",
    } <= artifact_paths(run.info.run_id)
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "dataset"
    assert len(dataset_input.dataset.digest) == 8
    assert json.loads(dataset_input.dataset.profile)["features_shape"] == [90, 4]
    assert {(t.key, t.value) for t in dataset_input.tags} == {("mlflow.data.context", "train")}

    # The fitted model comes back from the run, in MLflow's default autolog format.
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(_x_test), model.predict(_x_test))
    pyfunc_model = mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert pyfunc_model.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 4]
    assert pyfunc_model.metadata.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    (output,) = run.outputs.model_outputs
    logged = mltrail.get_logged_model(output.model_id)
    assert logged.name == "model" and logged.params["max_iter"] == "200"


def test_random_forest_regressor_gets_regression_metrics_inside_a_user_run():
    from sklearn.ensemble import RandomForestRegressor

    sklearn_autolog.autolog(log_datasets=False, log_models=False)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=80)
    with mltrail.start_run() as user_run:
        RandomForestRegressor(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    run = mltrail.get_run(user_run.info.run_id)
    assert "mlflow.autologging" not in run.data.tags  # a user's run gets no autologging tag
    assert run.data.params["n_estimators"] == "5"
    assert {
        "training_score",
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
    } <= set(run.data.metrics)
    assert run.data.metrics["training_root_mean_squared_error"] == pytest.approx(
        run.data.metrics["training_mean_squared_error"] ** 0.5
    )
    assert run.inputs.dataset_inputs == []
    assert len(runs_in("0")) == 1  # no extra run was made


def test_grid_search_gives_parent_and_best_child_runs(blobs, client):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    sklearn_autolog.autolog()
    x_train, _x_test, y_train, _y_test = blobs
    grid = {"C": [0.1, 1, 10], "fit_intercept": [True, False]}
    search = GridSearchCV(LogisticRegression(max_iter=300), grid, cv=3)
    with mltrail.start_run() as parent:
        search.fit(x_train, y_train)

    run = client.get_run(parent.info.run_id)
    assert run.data.params["estimator"] == "LogisticRegression(max_iter=300)"
    assert run.data.params["cv"] == "3"
    assert run.data.params["best_C"] == str(search.best_params_["C"])
    assert run.data.params["best_fit_intercept"] == str(search.best_params_["fit_intercept"])
    assert run.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert run.data.tags["estimator_name"] == "GridSearchCV"
    assert "cv_results.csv" in artifact_paths(run.info.run_id)

    children = [r for r in runs_in("0") if r.info.run_id != parent.info.run_id]
    assert len(children) == 5  # max_tuning_runs defaults to 5 of the 6 candidates
    ranks = sorted(c.data.metrics["rank_test_score"] for c in children)
    assert ranks == sorted(search.cv_results_["rank_test_score"])[:5]
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["mlflow.autologging"] == "sklearn"
        assert child.data.tags["estimator_name"] == "LogisticRegression"
        assert child.data.params["max_iter"] == "300"
        row = next(
            i
            for i, p in enumerate(search.cv_results_["params"])
            if str(p["C"]) == child.data.params["C"]
            and str(p["fit_intercept"]) == child.data.params["fit_intercept"]
        )
        assert child.data.metrics["mean_test_score"] == pytest.approx(
            search.cv_results_["mean_test_score"][row]
        )
        assert not any(k.startswith(("split", "param_")) for k in child.data.metrics)
        assert child.info.status == "FINISHED"

    best = mltrail.sklearn.load_model(f"runs:/{parent.info.run_id}/best_estimator")
    assert best.get_params()["C"] == search.best_params_["C"]
    whole = mltrail.sklearn.load_model(f"runs:/{parent.info.run_id}/model")
    assert type(whole).__name__ == "GridSearchCV"


def test_max_tuning_runs_none_logs_every_candidate(blobs):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RandomizedSearchCV

    sklearn_autolog.autolog(max_tuning_runs=None, log_models=False)
    x_train, _x_test, y_train, _y_test = blobs
    RandomizedSearchCV(
        LogisticRegression(max_iter=300), {"C": [0.01, 0.1, 1, 10, 100, 1000, 5]}, n_iter=7, cv=2
    ).fit(x_train, y_train)
    parent = mltrail.last_active_run()
    children = [r for r in runs_in("0") if r.data.tags.get("mlflow.parentRunId")]
    assert len(children) == 7
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)


def test_post_training_metrics_use_dataset_variable_names(blobs, client):
    from sklearn.linear_model import LogisticRegression

    sklearn_autolog.autolog()
    from sklearn.metrics import accuracy_score, f1_score

    X_train, X_test, y_train, y_test = blobs  # noqa: N806 - the names become metric names
    clf = LogisticRegression(max_iter=200).fit(X_train, y_train)
    pred = clf.predict(X_test)
    first = accuracy_score(y_test, pred)
    accuracy_score(y_test, pred)
    f1_score(y_test, pred, average="macro")
    clf.score(X_test, y_test)
    accuracy_score(y_test, clf.predict(X_test))
    accuracy_score(y_test, np.asarray(pred).copy())  # a derived copy is not tracked

    run = client.get_run(mltrail.last_active_run().info.run_id)
    metrics = run.data.metrics
    assert metrics["accuracy_score_X_test"] == pytest.approx(first)
    assert "accuracy_score-2_X_test" in metrics
    assert "accuracy_score-3_X_test" in metrics
    assert "accuracy_score-4_X_test" not in metrics
    assert "f1_score_X_test" in metrics
    assert metrics["LogisticRegression_score_X_test"] == pytest.approx(clf.score(X_test, y_test))
    info_path = client.download_artifacts(run.info.run_id, "metric_info.json")
    with open(info_path) as fh:
        info = json.load(fh)
    assert info["f1_score_X_test"] == "f1_score(y_true=y_test, y_pred=pred, average='macro')"
    assert info["accuracy_score-3_X_test"] == "accuracy_score(y_true=y_test, y_pred=<ndarray>)"
    assert info["LogisticRegression_score_X_test"] == "LogisticRegression.score(X=X_test, y=y_test)"
    contexts = {(d.dataset.name, t.value) for d in run.inputs.dataset_inputs for t in d.tags}
    assert ("X_test", "eval") in contexts


def test_disable_stops_logging_and_restores_methods(blobs):
    from sklearn.linear_model import LinearRegression

    original = LinearRegression.fit
    sklearn_autolog.autolog()
    assert LinearRegression.fit is not original
    sklearn_autolog.autolog(disable=True)
    assert LinearRegression.fit is original
    x_train, _x_test, y_train, _y_test = blobs
    LinearRegression().fit(x_train, y_train)
    assert runs_in("0") == []


def test_exclusive_keeps_out_of_user_runs(blobs):
    from sklearn.linear_model import LinearRegression

    sklearn_autolog.autolog(exclusive=True)
    x_train, _x_test, y_train, _y_test = blobs
    with mltrail.start_run() as user_run:
        LinearRegression().fit(x_train, y_train)
    run = mltrail.get_run(user_run.info.run_id)
    assert run.data.params == {} and run.data.metrics == {}
    assert len(runs_in("0")) == 1
    LinearRegression().fit(x_train, y_train)  # outside a user run it still logs
    assert len(runs_in("0")) == 2


def test_a_failure_inside_autologging_is_a_warning_and_fit_still_works(blobs, caplog):
    from sklearn.linear_model import LinearRegression

    class Awkward(LinearRegression):
        def get_params(self, deep=True):
            if deep and getattr(self, "coef_", None) is None:
                raise RuntimeError("cannot list my params")
            return super().get_params(deep)

    sklearn_autolog.autolog()
    x_train, _x_test, y_train, _y_test = blobs
    with caplog.at_level(logging.WARNING, logger="mltrail.autologging"):
        model = Awkward().fit(x_train, y_train)
    assert model.coef_.shape == (4,)
    assert "Encountered unexpected error during sklearn autologging: cannot list my params" in (
        caplog.text
    )
    run = mltrail.last_active_run()
    assert "training_r2_score" in run.data.metrics  # the rest was still logged
    assert run.info.status == "FINISHED"


def test_a_failing_fit_ends_the_autolog_run_failed():
    from sklearn.linear_model import LinearRegression

    sklearn_autolog.autolog()
    with pytest.raises(ValueError):
        LinearRegression().fit(np.array([[np.nan, 1.0], [2.0, 3.0]]), np.array([1.0, 2.0]))
    (run,) = runs_in("0")
    assert run.info.status == "FAILED"
    assert mltrail.active_run() is None
