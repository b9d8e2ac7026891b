"""``mltrail.xgboost`` and ``mltrail.lightgbm``: save, log, load back, pyfunc, and the real
MLflow loading what mltrail wrote (same flavor names and file layout)."""

from __future__ import annotations

import numpy as np
import pytest

import mltrail


@pytest.fixture
def table():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] > 0).astype(int)
    return x, y


def test_xgboost_booster_and_classifier_round_trip_and_load_in_mlflow(table, tmp_path):
    xgboost = pytest.importorskip("xgboost")
    mlflow_xgboost = pytest.importorskip("mlflow.xgboost")
    x, y = table
    booster = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, label=y), 4)
    classifier = xgboost.XGBClassifier(n_estimators=4, max_depth=2).fit(x, y)

    mltrail.xgboost.save_model(booster, str(tmp_path / "booster"))
    loaded = mltrail.xgboost.load_model(str(tmp_path / "booster"))
    assert isinstance(loaded, xgboost.Booster)
    expected = booster.predict(xgboost.DMatrix(x))
    np.testing.assert_allclose(loaded.predict(xgboost.DMatrix(x)), expected)
    # The files MLflow 3 writes for a Booster, no more, no less.
    assert sorted(p.name for p in (tmp_path / "booster").iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "model.ubj",
        "python_env.yaml",
        "requirements.txt",
    ]
    pyfunc = mltrail.pyfunc.load_model(str(tmp_path / "booster"))
    np.testing.assert_allclose(pyfunc.predict(x), expected)
    np.testing.assert_allclose(
        mlflow_xgboost.load_model(str(tmp_path / "booster")).predict(xgboost.DMatrix(x)), expected
    )

    with mltrail.start_run():
        info = mltrail.xgboost.log_model(classifier, name="clf", input_example=x[:2])
    back = mltrail.xgboost.load_model(info.model_uri)
    assert type(back) is xgboost.XGBClassifier
    np.testing.assert_array_equal(back.predict(x), classifier.predict(x))
    import mlflow.pyfunc

    saved = tmp_path / "clf"
    mltrail.xgboost.save_model(classifier, str(saved), model_format="json")
    assert (saved / "model.json").exists()
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(saved)).predict(x), classifier.predict(x)
    )


def test_xgboost_refuses_other_objects_and_foreign_classes(tmp_path):
    pytest.importorskip("xgboost")
    with pytest.raises(mltrail.MltrailException, match="xgboost Booster or XGBModel"):
        mltrail.xgboost.save_model(object(), str(tmp_path / "m"))
    with pytest.raises(mltrail.MltrailException, match="not an xgboost class"):
        mltrail.xgboost._load_file(str(tmp_path / "nothing"), "os.system")


def test_lightgbm_booster_and_estimator_round_trip_and_load_in_mlflow(table, tmp_path):
    lightgbm = pytest.importorskip("lightgbm")
    mlflow_lightgbm = pytest.importorskip("mlflow.lightgbm")
    x, y = table
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1}, lightgbm.Dataset(x, label=y), num_boost_round=3
    )
    mltrail.lightgbm.save_model(booster, str(tmp_path / "booster"))
    assert (tmp_path / "booster" / "model.lgb").exists()
    np.testing.assert_allclose(
        mltrail.lightgbm.load_model(str(tmp_path / "booster")).predict(x), booster.predict(x)
    )
    np.testing.assert_allclose(
        mlflow_lightgbm.load_model(str(tmp_path / "booster")).predict(x), booster.predict(x)
    )

    estimator = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y)
    with mltrail.start_run():
        info = mltrail.lightgbm.log_model(estimator, name="model")
    back = mltrail.lightgbm.load_model(info.model_uri)
    np.testing.assert_array_equal(back.predict(x), estimator.predict(x))
    np.testing.assert_array_equal(
        mltrail.pyfunc.load_model(info.model_uri).predict(x), estimator.predict(x)
    )
    mltrail.lightgbm.save_model(estimator, str(tmp_path / "estimator"))
    assert (tmp_path / "estimator" / "model.skops").exists()
    np.testing.assert_array_equal(
        mlflow_lightgbm.load_model(str(tmp_path / "estimator")).predict(x), estimator.predict(x)
    )


def test_autologged_boosting_models_load_back(table):
    xgboost = pytest.importorskip("xgboost")
    lightgbm = pytest.importorskip("lightgbm")
    x, y = table
    mltrail.autolog()
    model = xgboost.XGBClassifier(n_estimators=3).fit(x, y)
    run_id = mltrail.last_active_run().info.run_id
    np.testing.assert_array_equal(
        mltrail.xgboost.load_model(f"runs:/{run_id}/model").predict(x), model.predict(x)
    )
    signature = mltrail.pyfunc.load_model(f"runs:/{run_id}/model").metadata.signature
    assert signature is not None
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1}, lightgbm.Dataset(x, label=y), 3
    )
    run_id = mltrail.last_active_run().info.run_id
    np.testing.assert_allclose(
        mltrail.lightgbm.load_model(f"runs:/{run_id}/model").predict(x), booster.predict(x)
    )
