"""Models from code: ``python_model="model.py"`` saves the file itself (no pickle) and loading
runs it for the model it passes to ``set_model``; both ways with MLflow; the clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml

import mltrail
from mltrail.exceptions import InvalidParameter, MltrailException

OURS = textwrap.dedent(
    """
    import mltrail


    class Doubler(mltrail.pyfunc.PythonModel):
        def load_context(self, context):
            with open(context.artifacts["offset"], encoding="utf-8") as f:
                self.offset = float(f.read())

        def predict(self, context, model_input, params=None):
            return model_input["x"] * 2 + self.offset


    mltrail.models.set_model(Doubler())
    """
)


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_save_log_and_load_a_model_from_code(tmp_path):
    code = _write(tmp_path, "doubler.py", OURS)
    offset = _write(tmp_path, "offset.txt", "0.5")
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    path = tmp_path / "m"
    mltrail.pyfunc.save_model(
        path, python_model=str(code), artifacts={"offset": str(offset)}, input_example=frame
    )
    assert "doubler.py" in os.listdir(path) and "python_model.pkl" not in os.listdir(path)
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert conf["model_code_path"] == str(code)
    code.unlink()  # the model directory carries its own copy
    loaded = mltrail.pyfunc.load_model(str(path))
    assert loaded.predict(frame).tolist() == [2.5, 4.5]
    assert loaded.metadata.get_output_schema() is not None
    with mltrail.start_run():
        again = _write(tmp_path, "again.py", OURS)
        info = mltrail.pyfunc.log_model(
            name="from_code", python_model=again, artifacts={"offset": str(offset)}
        )
    assert mltrail.pyfunc.load_model(info.model_uri).predict(frame).tolist() == [2.5, 4.5]


def test_a_function_model_from_code(tmp_path):
    code = _write(
        tmp_path,
        "fn.py",
        "import mltrail\n\ndef plus_one(frame):\n    return frame + 1\n\n"
        "mltrail.models.set_model(plus_one)\n",
    )
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=code)
    out = mltrail.pyfunc.load_model(str(tmp_path / "m")).predict(pd.DataFrame({"a": [1]}))
    assert out["a"].tolist() == [2]


def test_bad_model_files_get_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(InvalidParameter, match="does not exist"):
        mltrail.pyfunc.save_model(tmp_path / "a", python_model=str(tmp_path / "missing.py"))
    with pytest.raises(InvalidParameter, match=r"Python file \(\.py\)"):
        mltrail.pyfunc.save_model(tmp_path / "b", python_model="model.txt")
    silent = _write(tmp_path, "silent.py", "x = 1\n")
    with pytest.raises(InvalidParameter, match="set_model"):
        mltrail.pyfunc.save_model(tmp_path / "c", python_model=str(silent))
    broken = _write(tmp_path, "broken.py", "raise RuntimeError('no GPU here')\n")
    with pytest.raises(MltrailException, match="broken.py.*RuntimeError: no GPU here"):
        mltrail.pyfunc.save_model(tmp_path / "d", python_model=str(broken))
    with pytest.raises(InvalidParameter, match="PythonModel"):
        mltrail.models.set_model(42)
    fine = _write(tmp_path, "fine.py", OURS.replace('context.artifacts["offset"]', "__file__"))
    fine.write_text(fine.read_text().replace("float(f.read())", "0.0"))
    mltrail.pyfunc.save_model(tmp_path / "e", python_model=str(fine))
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(MltrailException, match="saved as code"):
        mltrail.pyfunc.load_model(str(tmp_path / "e"))


def test_models_from_code_go_both_ways_with_mlflow(tmp_path):
    theirs_code = _write(
        tmp_path,
        "theirs.py",
        "import mlflow\n\n"
        "class Triple(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input['x'] * 3\n\n"
        "mlflow.models.set_model(Triple())\n",
    )
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    target = str(tmp_path / "theirs")
    script = (
        f"import mlflow\nmlflow.pyfunc.save_model({target!r}, python_model={str(theirs_code)!r})\n"
    )
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True)
    assert mltrail.pyfunc.load_model(str(tmp_path / "theirs")).predict(frame).tolist() == [3, 6]
    # MLflow wraps what the file sets in its own PythonModel machinery: a function (or an
    # MLflow PythonModel) written with mltrail's set_model loads there too.
    ours_code = _write(
        tmp_path,
        "ours.py",
        "import mltrail\n\ndef half(frame):\n    return frame['x'] / 2\n\n"
        "mltrail.models.set_model(half)\n",
    )
    mltrail.pyfunc.save_model(tmp_path / "ours", python_model=ours_code)
    script = (
        "import mlflow, pandas as pd\n"
        f"m = mlflow.pyfunc.load_model({str(tmp_path / 'ours')!r})\n"
        "print(list(m.predict(pd.DataFrame({'x': [1.0, 2.0]}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[0.5, 1.0]"
