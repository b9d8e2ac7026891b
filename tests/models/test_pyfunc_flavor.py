"""Python models: PythonModel subclasses with artifacts, code paths, params and metadata;
plain functions; custom loader modules; PyFuncModel's members."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.models import infer_signature


class LookupModel(mltrail.pyfunc.PythonModel):
    """Adds a factor read from an artifact at load time; scales by the ``temperature`` param."""

    def load_context(self, context):
        with open(context.artifacts["lookup"], encoding="utf-8") as f:
            self.factor = float(f.read())

    def predict(self, context, model_input, params=None):
        scale = (params or {}).get("temperature", 1.0)
        return (model_input[["x"]] + self.factor) * scale


def test_python_model_with_artifacts_params_and_metadata(tmp_path):
    (tmp_path / "lookup.txt").write_text("10")
    frame = pd.DataFrame({"x": [1.0, 2.0], "n": [1, 2]})
    path = tmp_path / "pm"
    mltrail.pyfunc.save_model(
        path,
        python_model=LookupModel(),
        artifacts={"lookup": str(tmp_path / "lookup.txt")},
        input_example=(frame, {"temperature": 0.5}),
        metadata={"owner": "me"},
        pip_requirements=["pandas"],
    )
    with open(path / "MLmodel", encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    conf = doc["flavors"]["python_function"]
    assert conf["artifacts"] == {
        "lookup": {"path": "artifacts/lookup.txt", "uri": str(tmp_path / "lookup.txt")}
    }
    assert conf["python_model"] == "python_model.pkl"
    assert doc["saved_input_example_info"]["params"] == "true"
    assert (path / "requirements.txt").read_text() == "pandas"
    model = mltrail.pyfunc.load_model(str(path))
    assert model.metadata.get_params_schema().params[0].name == "temperature"
    # The default params come from the example; explicit params override them.
    assert model.predict(frame)["x"].tolist() == [5.5, 6.0]
    assert model.predict(frame, params={"temperature": 2})["x"].tolist() == [22.0, 24.0]
    assert isinstance(model.unwrap_python_model(), LookupModel)
    assert model.metadata.metadata == {"owner": "me"}
    with pytest.raises(InvalidParameter, match="Model is missing inputs"):
        model.predict(pd.DataFrame({"y": [1.0]}))


def test_function_model_and_log_model(tmp_path):
    def add_one(frame):
        return frame + 1

    with mltrail.start_run():
        info = mltrail.pyfunc.log_model(name="fn", python_model=add_one)
    model = mltrail.pyfunc.load_model(info.model_uri)
    assert model.predict(pd.DataFrame({"a": [1, 2]}))["a"].tolist() == [2, 3]
    assert model.loader_module == "mltrail.pyfunc.model"


def test_predict_without_context_argument(tmp_path):
    class NoContext(mltrail.pyfunc.PythonModel):
        def predict(self, model_input, params=None):
            return np.asarray(model_input) * 3

    mltrail.pyfunc.save_model(tmp_path / "nc", python_model=NoContext())
    out = mltrail.pyfunc.load_model(str(tmp_path / "nc")).predict(np.array([1, 2]))
    assert out.tolist() == [3, 6]


def test_custom_loader_module_in_code_path(tmp_path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "my_loader.py").write_text(
        textwrap.dedent(
            """
            import json, os

            class _Model:
                def __init__(self, factor):
                    self.factor = factor

                def predict(self, model_input, params=None):
                    return [{"a": v * self.factor} for v in model_input["v"]]

            def _load_pyfunc(path):
                with open(os.path.join(path, "factor.json")) as f:
                    return _Model(json.load(f)["factor"])
            """
        )
    )
    data = tmp_path / "loaderdata"
    data.mkdir()
    (data / "factor.json").write_text('{"factor": 3}')
    mltrail.pyfunc.save_model(
        tmp_path / "custom",
        loader_module="my_loader",
        data_path=str(data),
        code_paths=[str(code / "my_loader.py")],
    )
    with open(tmp_path / "custom" / "MLmodel", encoding="utf-8") as f:
        conf = yaml.safe_load(f)["flavors"]["python_function"]
    assert conf["data"] == "data/loaderdata" and conf["code"] == "code"
    model = mltrail.pyfunc.load_model(str(tmp_path / "custom"))
    assert model.predict(pd.DataFrame({"v": [1, 2]})) == [{"a": 3}, {"a": 6}]


def test_models_without_pyfunc_or_with_a_missing_loader(tmp_path):
    os.makedirs(tmp_path / "only")
    (tmp_path / "only" / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: m.pkl}\n")
    with pytest.raises(NotFound, match='does not have the "python_function" flavor'):
        mltrail.pyfunc.load_model(str(tmp_path / "only"))
    os.makedirs(tmp_path / "ghost")
    (tmp_path / "ghost" / "MLmodel").write_text(
        "flavors:\n  python_function: {loader_module: notinstalled_pkg.loader}\n"
    )
    with pytest.raises(mltrail.MltrailException, match="notinstalled_pkg"):
        mltrail.pyfunc.load_model(str(tmp_path / "ghost"))


def test_bad_arguments(tmp_path):
    with pytest.raises(InvalidParameter, match="either python_model"):
        mltrail.pyfunc.save_model(tmp_path / "x")
    with pytest.raises(InvalidParameter, match="python_model must be"):
        mltrail.pyfunc.save_model(tmp_path / "y", python_model=42)


def test_signature_inferred_from_example_includes_outputs(tmp_path):
    class Doubler(mltrail.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input * 2.0

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    mltrail.pyfunc.save_model(tmp_path / "d", python_model=Doubler(), input_example=frame)
    sig = mltrail.pyfunc.load_model(str(tmp_path / "d")).metadata.signature
    assert sig == infer_signature(frame, frame * 2.0)
