"""The sklearn flavor end to end: save and load in each format, log to a run (the MLflow 3
logged model, linked to the run), load back by every URI form, and the bad-input errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

import mltrail
from mltrail.exceptions import AlreadyExists, InvalidParameter, MltrailException, NotFound
from mltrail.models import Model, infer_signature


def _mlmodel(path):
    with open(os.path.join(path, "MLmodel"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_save_default_is_skops_with_mlflow_layout(tmp_path, iris, iris_model):
    features, _ = iris
    path = tmp_path / "m"
    mltrail.sklearn.save_model(
        iris_model,
        path,
        signature=infer_signature(features, iris_model.predict(features)),
        input_example=features.head(3),
    )
    doc = _mlmodel(path)
    assert doc["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert doc["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert doc["saved_input_example_info"]["type"] == "dataframe"
    assert sorted(os.listdir(path)) == sorted(
        [
            "MLmodel",
            "conda.yaml",
            "input_example.json",
            "model.skops",
            "python_env.yaml",
            "requirements.txt",
            "serving_input_example.json",
        ]
    )
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("scikit-learn==") for r in reqs)
    assert any(r.startswith("skops==") for r in reqs)
    serving = json.loads((path / "serving_input_example.json").read_text())
    assert serving["dataframe_split"]["columns"] == list(features.columns)
    loaded = mltrail.sklearn.load_model(str(path))
    assert (loaded.predict(features) == iris_model.predict(features)).all()
    example = mltrail.pyfunc.load_model(str(path)).input_example
    assert list(example.columns) == list(features.columns)


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"])
def test_pickle_formats_and_the_gate(tmp_path, iris, iris_model, fmt, monkeypatch):
    features, _ = iris
    mltrail.sklearn.save_model(iris_model, tmp_path / "m", serialization_format=fmt)
    assert (tmp_path / "m" / "model.pkl").exists()
    model = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    assert (model.predict(features) == iris_model.predict(features)).all()
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(MltrailException, match="unpickle"):
        mltrail.sklearn.load_model(str(tmp_path / "m"))


def test_skops_refuses_untrusted_types_unless_named(tmp_path, iris):
    from sklearn.tree import DecisionTreeClassifier

    features, target = iris
    tree = DecisionTreeClassifier(max_depth=2).fit(features, target)
    with pytest.raises(InvalidParameter, match="sklearn.tree._tree.Tree"):
        mltrail.sklearn.save_model(tree, tmp_path / "t")
    assert not (tmp_path / "t" / "MLmodel").exists()
    mltrail.sklearn.save_model(
        tree, tmp_path / "t2", skops_trusted_types=["sklearn.tree._tree.Tree"]
    )
    assert (
        mltrail.sklearn.load_model(str(tmp_path / "t2")).predict(features) == tree.predict(features)
    ).all()


def test_pyfunc_predict_fn(tmp_path, iris, iris_model):
    features, _ = iris
    mltrail.sklearn.save_model(iris_model, tmp_path / "p", pyfunc_predict_fn="predict_proba")
    proba = mltrail.pyfunc.load_model(str(tmp_path / "p")).predict(features.head(2))
    assert np.allclose(proba, iris_model.predict_proba(features.head(2)))
    with pytest.raises(InvalidParameter, match="pyfunc_predict_fn"):
        mltrail.sklearn.save_model(iris_model, tmp_path / "q", pyfunc_predict_fn="fit")


def test_save_refuses_a_non_empty_folder(tmp_path, iris_model):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists):
        mltrail.sklearn.save_model(iris_model, tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_log_model_positional_form_creates_a_linked_logged_model(iris, iris_model):
    features, _ = iris
    with mltrail.start_run() as run:
        mltrail.log_param("C", 1.0)
        info = mltrail.sklearn.log_model(iris_model, "logistic_regression")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    logged = mltrail.get_logged_model(info.model_id)
    assert logged.status == "READY"
    assert logged.name == "logistic_regression"
    assert logged.source_run_id == run.info.run_id
    assert logged.params["C"] == "1.0"
    outputs = mltrail.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    doc = _mlmodel(logged.artifact_location)
    assert doc["model_id"] == doc["model_uuid"] == info.model_id
    assert doc["run_id"] == run.info.run_id
    expected = iris_model.predict(features.head(5))
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/logistic_regression"):
        assert (mltrail.sklearn.load_model(uri).predict(features.head(5)) == expected).all()
        assert (mltrail.pyfunc.load_model(uri).predict(features.head(5)) == expected).all()


def test_log_model_without_a_run_and_name_clash(iris_model):
    info = mltrail.sklearn.log_model(iris_model, name="solo")
    assert info.run_id is None
    assert mltrail.get_logged_model(info.model_id).source_run_id is None
    with pytest.raises(InvalidParameter, match="Both `artifact_path`"):
        mltrail.sklearn.log_model(iris_model, "a", name="b")


def test_runs_uri_falls_back_to_run_artifacts(tmp_path, iris, iris_model):
    """A model uploaded into the run's own artifacts (MLflow 2 style) loads by runs:/."""
    features, _ = iris
    mltrail.sklearn.save_model(iris_model, tmp_path / "old")
    with mltrail.start_run() as run:
        mltrail.log_artifacts(str(tmp_path / "old"), "old_model")
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/old_model")
    assert (loaded.predict(features.head(3)) == iris_model.predict(features.head(3))).all()


def test_missing_models_give_clear_errors(tmp_path):
    with pytest.raises(NotFound, match="No such model"):
        mltrail.pyfunc.load_model(str(tmp_path / "nope"))
    with pytest.raises(NotFound, match="m-doesnotexist"):
        mltrail.pyfunc.load_model("models:/m-doesnotexist")
    with mltrail.start_run() as run:
        pass
    with pytest.raises(NotFound, match="Failed to download artifacts from path 'nonexistent'"):
        mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/nonexistent")
    with pytest.raises(InvalidParameter, match="Not a proper models:/ URI"):
        mltrail.pyfunc.load_model("models:/")


def test_registered_model_name_and_registry_uris(iris, iris_model):
    """log_model(registered_model_name=) registers a version; models:/<name>/<version>,
    /latest and @alias resolve through the registry's TrailClient methods."""
    if not hasattr(mltrail.TrailClient, "get_model_version"):
        with pytest.raises(MltrailException, match="registry"):
            mltrail.sklearn.log_model(iris_model, "m", registered_model_name="iris")
        return
    features, _ = iris
    expected = iris_model.predict(features.head(4))
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(iris_model, "m", registered_model_name="iris")
    assert info.registered_model_version == 1
    mltrail.TrailClient().set_registered_model_alias("iris", "champion", 1)
    for uri in ("models:/iris/1", "models:/iris/latest", "models:/iris@champion"):
        assert (mltrail.pyfunc.load_model(uri).predict(features.head(4)) == expected).all()
    with pytest.raises(NotFound, match="version=7"):
        mltrail.pyfunc.load_model("models:/iris/7")


def test_sklearn_load_needs_the_sklearn_flavor(tmp_path):
    def double(frame):
        return frame * 2

    mltrail.pyfunc.save_model(tmp_path / "fn", python_model=double)
    with pytest.raises(NotFound, match='does not have the "sklearn" flavor'):
        mltrail.sklearn.load_model(str(tmp_path / "fn"))


def test_model_metadata_round_trip_keeps_unknown_keys(tmp_path, iris_model):
    mltrail.sklearn.save_model(iris_model, tmp_path / "m", metadata={"owner": "me"})
    doc = _mlmodel(tmp_path / "m")
    doc["my_vendor_field"] = 42
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(doc))
    model = Model.load(tmp_path / "m")
    model.save(str(tmp_path / "m" / "MLmodel"))
    again = _mlmodel(tmp_path / "m")
    assert again["my_vendor_field"] == 42
    assert again["metadata"] == {"owner": "me"}
    assert mltrail.pyfunc.load_model(str(tmp_path / "m")).metadata.metadata == {"owner": "me"}


def test_mlflow2_style_paths_fall_back_to_run_artifacts(iris, iris_model):
    """``log_model(model, "Biscoe-0.5")`` (the seeds' names) cannot name a logged model; it
    is stored in the run's artifacts the MLflow 2 way and loads by runs:/."""
    features, _ = iris
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(iris_model, "Biscoe-0.5")
    assert info.model_uri == f"runs:/{run.info.run_id}/Biscoe-0.5"
    assert [f.path for f in mltrail.TrailClient().list_artifacts(run.info.run_id)] == ["Biscoe-0.5"]
    loaded = mltrail.sklearn.load_model(info.model_uri)
    assert (loaded.predict(features.head(3)) == iris_model.predict(features.head(3))).all()
    with pytest.raises(InvalidParameter, match="logged model name"):
        mltrail.sklearn.log_model(iris_model, name="a.b")


def test_fast_numeric_predict_gives_the_same_answers(tmp_path, iris):
    """The scoring server's shortcut (a matching numeric frame as its array) changes no
    prediction, and is not taken for pipelines or mismatched columns."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = iris
    plain = (
        __import__("sklearn.linear_model", fromlist=["x"])
        .LogisticRegression(max_iter=500)
        .fit(features, target)
    )
    pipe = make_pipeline(StandardScaler(), plain.__class__(max_iter=500)).fit(features, target)
    mltrail.sklearn.save_model(plain, tmp_path / "plain")
    mltrail.sklearn.save_model(pipe, tmp_path / "pipe")
    before = [
        mltrail.pyfunc.load_model(str(tmp_path / n)).predict(features) for n in ("plain", "pipe")
    ]
    mltrail.sklearn.enable_fast_numeric_predict()
    try:
        plain_model = mltrail.pyfunc.load_model(str(tmp_path / "plain"))
        pipe_model = mltrail.pyfunc.load_model(str(tmp_path / "pipe"))
        assert (plain_model.predict(features) == before[0]).all()
        assert (pipe_model.predict(features) == before[1]).all()
        assert pipe_model._impl._matrix_names is None
        shuffled = features[list(reversed(features.columns))]
        names = plain_model._impl._matrix_names
        assert mltrail.sklearn._numeric_block(shuffled, names) is None
        assert mltrail.sklearn._numeric_block(features, names) is not None
    finally:
        mltrail.sklearn._fast_numeric = False


def test_conda_env_gives_the_pip_requirements(tmp_path, iris_model):
    env = {"dependencies": ["python=3.11", {"pip": ["scikit-learn", "extra-lib==1.0"]}]}
    mltrail.sklearn.save_model(iris_model, tmp_path / "dict", conda_env=env)
    reqs = (tmp_path / "dict" / "requirements.txt").read_text().splitlines()
    assert "extra-lib==1.0" in reqs
    env_file = tmp_path / "env.yaml"
    env_file.write_text(yaml.safe_dump(env))
    mltrail.sklearn.save_model(
        iris_model, tmp_path / "both", conda_env=str(env_file), pip_requirements=["only-this"]
    )
    reqs = (tmp_path / "both" / "requirements.txt").read_text().splitlines()
    assert "only-this" in reqs and "extra-lib==1.0" not in reqs
