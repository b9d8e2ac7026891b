"""``mltrail models serve`` as a real process answering real HTTP: every input shape MLflow's
scoring protocol has (and the older bare body), CSV, params, and the bad-input answers, after
which the server still serves."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pandas as pd
import pytest
import served_models
from scoring_servers import ScoringServer

import mltrail
from mltrail.models import infer_signature

COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


@pytest.fixture(scope="module")
def sk_server(tmp_path_factory, iris, iris_model):
    features, _ = iris
    path = tmp_path_factory.mktemp("serve") / "iris"
    mltrail.sklearn.save_model(
        iris_model,
        path,
        signature=infer_signature(features, iris_model.predict(features)),
        input_example=features.head(2),
    )
    server = ScoringServer(str(path), "--max-body-size", "64KiB").wait()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def param_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "params"
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    mltrail.pyfunc.save_model(
        path,
        python_model=served_models.SlowParamModel(),
        code_paths=[served_models.__file__],
        signature=infer_signature(frame, frame["x"], params={"scale": 1.0, "sleep": 0.0}),
    )
    server = ScoringServer(str(path), "--timeout", "2").wait()
    yield server
    server.stop()


def expected(iris_model):
    return iris_model.predict(pd.DataFrame(ROWS, columns=COLUMNS)).tolist()


def post_json(server, body, **kw):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return httpx.post(server.url + "/invocations", content=data, headers=headers, timeout=30, **kw)


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
        {"dataframe_records": [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]},
        {"instances": [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]},
        {"inputs": {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}},
        {"inputs": ROWS},
        # The body older clients send (the seeds' curl example).
        {"columns": COLUMNS, "data": ROWS},
    ],
    ids=["split", "records", "instances", "inputs-columnar", "inputs-rows", "legacy"],
)
def test_json_forms(sk_server, iris_model, body):
    answer = post_json(sk_server, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": expected(iris_model)}


def test_ints_for_double_columns_and_csv(sk_server, iris_model):
    answer = post_json(sk_server, {"dataframe_split": {"columns": COLUMNS, "data": [[5, 3, 1, 0]]}})
    assert answer.status_code == 200
    csv = pd.DataFrame(ROWS, columns=COLUMNS).to_csv(index=False)
    answer = httpx.post(
        sk_server.url + "/invocations",
        content=csv,
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert answer.json() == {"predictions": expected(iris_model)}


def test_health_routes(sk_server):
    assert httpx.get(sk_server.url + "/ping").status_code == 200
    assert httpx.get(sk_server.url + "/health").status_code == 200
    assert httpx.get(sk_server.url + "/version").text == mltrail.__version__
    assert httpx.get(sk_server.url + "/invocations").status_code == 405


def _error(answer, status, code, *words):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error_code"] == code
    for word in words:
        assert word in body["message"]
    return body


def test_bad_bodies_are_4xx_json_and_the_server_keeps_serving(sk_server, iris_model):
    _error(post_json(sk_server, b'{"dataframe_split": '), 400, "BAD_REQUEST", "valid JSON")
    _error(post_json(sk_server, b"[1, 2]"), 400, "BAD_REQUEST", "JSON dictionary")
    _error(post_json(sk_server, {"foo": [1]}), 400, "BAD_REQUEST", "exactly one of")
    _error(
        post_json(sk_server, {"inputs": ROWS, "instances": ROWS}),
        400,
        "BAD_REQUEST",
        "['instances', 'inputs']",
    )
    _error(post_json(sk_server, {"inputs": ROWS, "extra": 1}), 400, "BAD_REQUEST", "extra")
    _error(
        post_json(sk_server, {"dataframe_split": {"data": ROWS, "bogus": 1}}),
        400,
        "BAD_REQUEST",
        "'data' field",
    )
    _error(
        post_json(sk_server, {"dataframe_records": {"a": 1}}),
        400,
        "BAD_REQUEST",
        "list of records",
    )
    deep = "[" * 5000 + "]" * 5000
    _error(post_json(sk_server, '{"inputs": ' + deep + "}"), 400, "BAD_REQUEST", "nested")
    body = _error(
        post_json(sk_server, {"dataframe_split": {"columns": COLUMNS[:2], "data": [[1.0, 2.0]]}}),
        400,
        "INVALID_PARAMETER_VALUE",
        "missing inputs",
        "petal",
    )
    assert body["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"
    _error(
        post_json(sk_server, {"dataframe_split": {"columns": COLUMNS, "data": [["x", 1, 1, 1]]}}),
        400,
        "BAD_REQUEST",
        "sepal length (cm)",
    )
    bad_csv = httpx.post(
        sk_server.url + "/invocations", content=b"", headers={"Content-Type": "text/csv"}
    )
    _error(bad_csv, 400, "BAD_REQUEST", "CSV")
    wrong = httpx.post(
        sk_server.url + "/invocations", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert wrong.status_code == 415 and "content types" in wrong.text
    old = httpx.post(
        sk_server.url + "/invocations",
        content=b"{}",
        headers={"Content-Type": "application/json; format=pandas-split"},
    )
    assert old.status_code == 415
    # Still serving after all that.
    answer = post_json(sk_server, {"inputs": ROWS})
    assert answer.json() == {"predictions": expected(iris_model)}


def test_oversized_host_and_origin_checks(sk_server):
    big = {"inputs": np.ones((3000, 4)).tolist()}
    assert post_json(sk_server, big).status_code == 413
    evil = post_json(sk_server, {"inputs": ROWS}, headers={"Host": "evil.example"})
    assert evil.status_code == 403
    cross = post_json(sk_server, {"inputs": ROWS}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert post_json(sk_server, {"inputs": ROWS}).status_code == 200


def test_params_and_timeout(param_server):
    body = {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]}, "params": {"scale": 3}}
    answer = post_json(param_server, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": [3.0, 6.0]}
    bad = post_json(param_server, {**body, "params": {"scale": "big"}})
    _error(bad, 400, "INVALID_PARAMETER_VALUE", "Invalid parameters")
    _error(
        post_json(param_server, {**body, "params": [1]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "dictionary",
    )
    slow = post_json(param_server, {**body, "params": {"sleep": 5}})
    _error(slow, 504, "DEADLINE_EXCEEDED", "exceeded")
    assert post_json(param_server, body).status_code == 200


def test_serve_refuses_a_missing_model_and_a_busy_port(tmp_path, sk_server):
    import subprocess
    import sys

    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "mltrail",
            "models",
            "serve",
            "-m",
            str(tmp_path / "nope"),
            "-p",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1
    assert "No such model" in missing.stderr and "Traceback" not in missing.stderr
    busy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mltrail",
            "models",
            "serve",
            "-m",
            str(tmp_path),
            "-p",
            str(sk_server.port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert busy.returncode == 1 and "already in use" in busy.stderr


def test_served_from_a_run_uri(tmp_path, iris_model):
    """``mltrail models serve -m runs:/<id>/model`` against the embedded store."""
    db = f"sqlite:///{tmp_path / 'mltrail.db'}"
    mltrail.set_tracking_uri(db)
    try:
        with mltrail.start_run() as run:
            mltrail.sklearn.log_model(iris_model, "model")
    finally:
        mltrail.set_tracking_uri(None)
    server = ScoringServer(
        f"runs:/{run.info.run_id}/model", "--tracking-uri", db, "--workers", "2", cwd=str(tmp_path)
    )
    try:
        server.wait()
        answer = post_json(server, {"inputs": ROWS})
        assert answer.json() == {"predictions": expected(iris_model)}
    finally:
        server.stop()


def test_serve_in_a_uv_environment(tmp_path, iris_model):
    """--env-manager uv: the model's python_env.yaml built (cached) by uv, the server re-run
    in it. The interpreter that answers is the environment's, not this one."""
    import shutil
    import sys
    from pathlib import Path

    if shutil.which("uv") is None and not (Path(sys.executable).parent / "uv").exists():
        pytest.skip("uv is not installed")
    mltrail.sklearn.save_model(iris_model, tmp_path / "m")
    server = ScoringServer(str(tmp_path / "m"), "--env-manager", "uv")
    try:
        server.wait(timeout=600)
        answer = post_json(server, {"inputs": ROWS})
        assert answer.json() == {"predictions": expected(iris_model)}
        with open(f"/proc/{server.proc.pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode()
        assert argv0 != sys.executable and "/envs/uv-" in argv0
    finally:
        server.stop()
