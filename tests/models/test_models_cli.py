"""``mltrail models predict``, ``generate-dockerfile`` and ``build-docker`` through the real
command (subprocesses), plus ``mltrail.models.predict`` in process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import mltrail

COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def cli(*args, cwd=None, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "mltrail", "models", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, iris_model):
    path = tmp_path_factory.mktemp("cli") / "iris"
    mltrail.sklearn.save_model(iris_model, path)
    return path


def test_predict_json_csv_and_stdin(tmp_path, model_dir, iris_model):
    want = iris_model.predict(pd.DataFrame(ROWS, columns=COLUMNS)).tolist()
    (tmp_path / "in.json").write_text(
        json.dumps({"dataframe_split": {"columns": COLUMNS, "data": ROWS}})
    )
    done = cli("predict", "-m", str(model_dir), "-i", str(tmp_path / "in.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"predictions": want}
    pd.DataFrame(ROWS, columns=COLUMNS).to_csv(tmp_path / "in.csv", index=False)
    done = cli(
        "predict",
        "-m",
        str(model_dir),
        "-i",
        str(tmp_path / "in.csv"),
        "-t",
        "csv",
        "-o",
        str(tmp_path / "out.json"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"predictions": want}
    done = cli("predict", "-m", str(model_dir), stdin=json.dumps({"inputs": ROWS}))
    assert json.loads(done.stdout) == {"predictions": want}


def test_predict_errors_are_one_sentence(tmp_path, model_dir):
    done = cli("predict", "-m", str(model_dir), stdin='{"inputs": [[1.0]]}')
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    done = cli("predict", "-m", str(model_dir), stdin="{oops")
    assert done.returncode == 1 and "valid JSON" in done.stderr
    done = cli("predict", "-m", str(tmp_path / "missing"), stdin="{}")
    assert done.returncode == 1 and "No such model" in done.stderr


def test_predict_in_process(tmp_path, model_dir, iris_model):
    out = tmp_path / "p.json"
    mltrail.models.predict(str(model_dir), input_data={"inputs": ROWS}, output_path=str(out))
    want = iris_model.predict(pd.DataFrame(ROWS, columns=COLUMNS)).tolist()
    assert json.loads(out.read_text()) == {"predictions": want}


def test_generate_dockerfile(tmp_path, model_dir):
    out = tmp_path / "ctx"
    done = cli("generate-dockerfile", "-m", str(model_dir), "-d", str(out))
    assert done.returncode == 0, done.stderr
    dockerfile = (out / "Dockerfile").read_text()
    assert dockerfile.startswith("# Serves a model")
    assert "FROM python:3.11-slim" in dockerfile
    assert "COPY model_dir/iris /opt/ml/model" in dockerfile
    assert '"--port", "8080"' in dockerfile and "EXPOSE 8080" in dockerfile
    assert "openjdk" not in dockerfile
    assert (out / "model_dir" / "iris" / "MLmodel").read_text() == (
        model_dir / "MLmodel"
    ).read_text()
    # This mltrail goes into the image (a source tree here, or a wheel when installed).
    installed = os.listdir(out / "mltrail")
    assert "pyproject.toml" in installed or any(n.endswith(".whl") for n in installed)
    again = cli("generate-dockerfile", "-m", str(model_dir), "-d", str(out))
    assert again.returncode == 1 and "not empty" in again.stderr


def test_generate_dockerfile_without_a_model_and_with_java(tmp_path):
    out = tmp_path / "ctx"
    done = cli("generate-dockerfile", "-d", str(out), "--install-java", "true")
    assert done.returncode == 0, done.stderr
    dockerfile = (out / "Dockerfile").read_text()
    assert "openjdk-17-jre-headless" in dockerfile
    assert "COPY model_dir" not in dockerfile


def test_build_docker_without_an_engine_fails_clearly(tmp_path, model_dir):
    done = cli("build-docker", "-m", str(model_dir), "-n", "iris-test")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    if shutil.which("docker") is None:
        assert "docker command is not installed" in done.stderr
    else:
        assert "no Docker engine answers" in done.stderr or "docker build failed" in done.stderr


def test_serve_help_uses_h_for_host():
    done = cli("serve", "--help")
    assert done.returncode == 0
    assert "-h, --host" in done.stdout and "--env-manager [local|uv]" in done.stdout
