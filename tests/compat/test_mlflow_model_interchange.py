"""Models travel both ways between mltrail and the real ``mlflow`` package (in process):
saved by one, loaded and scored by the other, with equal signatures; and logged through a
live mltrail server by one, loaded by URI with the other."""

from __future__ import annotations

import os

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.models import ModelSignature, infer_signature

pytest.importorskip("sklearn")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

FEATURES, TARGET = load_iris(return_X_y=True, as_frame=True)
MODEL = LogisticRegression(max_iter=500).fit(FEATURES, TARGET)
EXPECTED = MODEL.predict(FEATURES.head(10))


def _signature_of(mlflow_signature) -> ModelSignature:
    return ModelSignature.from_dict(mlflow_signature.to_dict())


@pytest.mark.parametrize("fmt", ["skops", "cloudpickle"])
def test_mltrail_sklearn_model_loads_in_mlflow(tmp_path, fmt):
    sig = infer_signature(FEATURES, MODEL.predict(FEATURES))
    mltrail.sklearn.save_model(
        MODEL,
        tmp_path / "m",
        serialization_format=fmt,
        signature=sig,
        input_example=FEATURES.head(3),
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert (loaded.predict(FEATURES.head(10)) == EXPECTED).all()
    assert _signature_of(loaded.metadata.signature) == sig
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    assert (native.predict(FEATURES.head(10)) == EXPECTED).all()
    example = loaded.input_example
    assert list(example.columns) == list(FEATURES.columns)


@pytest.mark.parametrize("fmt", ["skops", "cloudpickle"])
def test_mlflow_sklearn_model_loads_in_mltrail(tmp_path, fmt):
    sig = mlflow.models.infer_signature(FEATURES, MODEL.predict(FEATURES))
    mlflow.sklearn.save_model(
        MODEL,
        str(tmp_path / "m"),
        serialization_format=fmt,
        signature=sig,
        input_example=FEATURES.head(3),
    )
    loaded = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    assert (loaded.predict(FEATURES.head(10)) == EXPECTED).all()
    assert loaded.metadata.signature == _signature_of(sig)
    assert (
        mltrail.sklearn.load_model(str(tmp_path / "m")).predict(FEATURES.head(10)) == EXPECTED
    ).all()
    # Re-saving MLflow's MLmodel through mltrail keeps every key MLflow wrote.
    import yaml

    before = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    model = mltrail.models.Model.load(tmp_path / "m")
    model.save(str(tmp_path / "m" / "MLmodel"))
    after = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert after == before


class Scaler(mltrail.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["factor"], encoding="utf-8") as f:
            self.factor = float(f.read())

    def predict(self, context, model_input, params=None):
        return model_input * self.factor


def test_mltrail_python_model_loads_in_mlflow(tmp_path):
    (tmp_path / "factor.txt").write_text("3")
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    mltrail.pyfunc.save_model(
        tmp_path / "pm",
        python_model=Scaler(),
        artifacts={"factor": str(tmp_path / "factor.txt")},
        input_example=frame,
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "pm"))
    assert loaded.predict(frame)["a"].tolist() == [3.0, 6.0]
    with pytest.raises(mlflow.exceptions.MlflowException, match="missing inputs"):
        loaded.predict(pd.DataFrame({"b": [1.0]}))


def test_mlflow_python_model_loads_in_mltrail(tmp_path):
    class Adder(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input + (params or {}).get("k", 0)

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    mlflow.pyfunc.save_model(
        str(tmp_path / "pm"),
        python_model=Adder(),
        input_example=(frame, {"k": 5}),
    )
    loaded = mltrail.pyfunc.load_model(str(tmp_path / "pm"))
    assert loaded.predict(frame)["a"].tolist() == [6.0, 7.0]
    assert loaded.predict(frame, params={"k": 1})["a"].tolist() == [2.0, 3.0]
    assert isinstance(loaded.unwrap_python_model(), Adder)


def test_mlflow_custom_loader_model_loads_in_mltrail(tmp_path):
    code = tmp_path / "code_src"
    code.mkdir()
    (code / "triple_loader.py").write_text(
        "class M:\n"
        "    def predict(self, data):\n"
        "        return data * 3\n"
        "def _load_pyfunc(path):\n"
        "    return M()\n"
    )
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.txt").write_text("x")
    mlflow.pyfunc.save_model(
        str(tmp_path / "cm"),
        loader_module="triple_loader",
        data_path=str(data),
        code_paths=[str(code / "triple_loader.py")],
    )
    out = mltrail.pyfunc.load_model(str(tmp_path / "cm")).predict(np.array([1, 2]))
    assert out.tolist() == [3, 6]


def test_logged_through_the_server_both_ways(mlflow_tracking, monkeypatch):
    """mlflow logs to the mltrail server, mltrail loads by URI; and the other way round."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_tracking)
    mlflow.set_experiment("interchange")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            MODEL,
            name="by_mlflow",
            serialization_format="cloudpickle",
            pip_requirements=["scikit-learn"],
        )
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/by_mlflow"):
        assert (mltrail.pyfunc.load_model(uri).predict(FEATURES.head(10)) == EXPECTED).all()

    mltrail.set_tracking_uri(mlflow_tracking)
    try:
        mltrail.set_experiment("interchange")
        with mltrail.start_run() as ours:
            mine = mltrail.sklearn.log_model(MODEL, "by_mltrail")
    finally:
        mltrail.set_tracking_uri(None)
    assert mine.artifact_path.startswith("mlflow-artifacts:/")
    for uri in (mine.model_uri, f"runs:/{ours.info.run_id}/by_mltrail"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (loaded.predict(FEATURES.head(10)) == EXPECTED).all()
    logged = mlflow.get_logged_model(mine.model_id)
    assert logged.status == mlflow.entities.LoggedModelStatus.READY
    assert logged.source_run_id == ours.info.run_id
    assert os.environ["MLFLOW_TRACKING_URI"] == mlflow_tracking
