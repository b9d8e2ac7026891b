"""XGBoost and LightGBM autologging on small synthetic tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest_helpers import artifact_paths

import mltrail


@pytest.fixture
def table():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])
    target = (frame["a"] - frame["b"] + 0.1 * rng.normal(size=200) > 0).astype(int)
    return frame.iloc[:150], frame.iloc[150:], target.iloc[:150], target.iloc[150:]


def _json_artifact(client, run_id: str, path: str):
    with open(client.download_artifacts(run_id, path)) as fh:
        return json.load(fh)


def test_xgboost_classifier_logs_params_iteration_metrics_importance_and_data(table, client):
    xgboost = pytest.importorskip("xgboost")
    from mltrail.autologging import xgboost as xgb_autolog

    xgb_autolog.autolog(importance_types=["weight", "gain"])
    x_train, x_val, y_train, y_val = table
    model = xgboost.XGBClassifier(n_estimators=6, max_depth=2, learning_rate=0.3)
    model.fit(x_train, y_train, eval_set=[(x_val, y_val)], verbose=False)

    run = client.get_run(mltrail.last_active_run().info.run_id)
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    assert run.data.params["n_estimators"] == "6"
    assert run.data.params["max_depth"] == "2"
    history = client.get_metric_history(run.info.run_id, "validation_0-logloss")
    assert [m.step for m in history] == list(range(6))
    assert history[-1].value == pytest.approx(model.evals_result()["validation_0"]["logloss"][-1])
    paths = artifact_paths(run.info.run_id)
    for kind in ("weight", "gain"):
        assert {f"feature_importance_{kind}.json", f"feature_importance_{kind}.png"} <= paths
    weights = _json_artifact(client, run.info.run_id, "feature_importance_weight.json")
    assert weights == pytest.approx(model.get_booster().get_score(importance_type="weight"))
    assert run.inputs.dataset_inputs[0].dataset.profile == json.dumps(
        {"num_rows": 150, "num_elements": 600}
    )
    assert len(mltrail.TrailClient().search_runs(["0"])) == 1  # train() inside fit joined it


def test_xgboost_native_train_with_early_stopping(table, client):
    xgboost = pytest.importorskip("xgboost")
    from mltrail.autologging import xgboost as xgb_autolog

    xgb_autolog.autolog()
    x_train, x_val, y_train, y_val = table
    dtrain = xgboost.DMatrix(x_train, label=y_train)
    dval = xgboost.DMatrix(x_val, label=y_val)
    with mltrail.start_run() as run:
        booster = xgboost.train(
            {"objective": "binary:logistic", "eta": 1.0, "max_depth": 6},
            dtrain,
            num_boost_round=50,
            evals=[(dtrain, "train"), (dval, "eval")],
            early_stopping_rounds=2,
            verbose_eval=False,
        )
    data = client.get_run(run.info.run_id).data
    assert data.params["eta"] == "1.0" and data.params["num_boost_round"] == "50"
    assert data.params["early_stopping_rounds"] == "2"
    assert data.metrics["best_iteration"] == booster.best_iteration
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "eval-logloss")]
    assert steps == list(range(booster.num_boosted_rounds()))
    assert "train-logloss" in data.metrics


def test_xgboost_model_format_reaches_the_logged_model(table, client):
    xgboost = pytest.importorskip("xgboost")
    from mltrail.autologging import xgboost as xgb_autolog

    xgb_autolog.autolog(model_format="json")
    x_train, _, y_train, _ = table
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2)
    model.fit(x_train, y_train)
    fitted = mltrail.last_active_run().info.run_id
    with mltrail.start_run() as native:
        xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x_train, y_train), 3)
    experiment_id = client.get_run(fitted).info.experiment_id
    logged = {m.source_run_id: m for m in client.search_logged_models([experiment_id])}
    for run_id in (fitted, native.info.run_id):
        uri = f"models:/{logged[run_id].model_id}"
        assert "model.json" in {f.path for f in mltrail.artifacts.list_artifacts(uri)}
    loaded = mltrail.pyfunc.load_model(f"runs:/{fitted}/model")
    assert loaded.metadata.signature is not None  # inferred from the fit's data


def test_lightgbm_regressor_and_native_train(table, client):
    lightgbm = pytest.importorskip("lightgbm")
    from mltrail.autologging import lightgbm as lgb_autolog

    lgb_autolog.autolog()
    x_train, x_val, y_train, y_val = table
    model = lightgbm.LGBMRegressor(n_estimators=5, num_leaves=4, verbose=-1)
    model.fit(x_train, y_train.astype(float), eval_set=[(x_val, y_val.astype(float))])
    run = client.get_run(mltrail.last_active_run().info.run_id)
    assert run.data.tags["mlflow.autologging"] == "lightgbm"
    assert run.data.params["num_leaves"] == "4"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "valid_0-l2")] == list(
        range(5)
    )
    split = _json_artifact(client, run.info.run_id, "feature_importance_split.json")
    assert list(split) == ["a", "b", "c", "d"]
    assert split["a"] == model.booster_.feature_importance("split")[0]
    assert "feature_importance_gain.png" in artifact_paths(run.info.run_id)

    dtrain = lightgbm.Dataset(x_train, label=y_train)
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 3},
        dtrain,
        num_boost_round=4,
        valid_sets=[dtrain],
        valid_names=["train"],
    )
    native = mltrail.last_active_run()
    assert native.info.run_id != run.info.run_id
    assert native.data.params["num_leaves"] == "3" and native.data.params["num_boost_round"] == "4"
    assert [
        m.step for m in client.get_metric_history(native.info.run_id, "train-binary_logloss")
    ] == [
        0,
        1,
        2,
        3,
    ]
    assert booster.current_iteration() == 4
