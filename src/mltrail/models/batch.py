"""Scoring files in batch (``mltrail models predict``): the input is an ``/invocations`` body
(JSON) or a CSV table, the output ``{"predictions": ...}``."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException

_MEDIA = {"json": "application/json", "csv": "text/csv"}


def _read_input(input_data: Any, input_path: str | None) -> bytes:
    if input_data is not None:
        if isinstance(input_data, bytes):
            return input_data
        if isinstance(input_data, str):
            return input_data.encode("utf-8")
        import orjson

        from mltrail.models.examples import to_jsonable

        return orjson.dumps(to_jsonable(input_data))
    if input_path:
        if not os.path.isfile(input_path):
            raise InvalidParameter(f"No input file at {input_path!r}.")
        with open(input_path, "rb") as f:
            return f.read()
    return sys.stdin.buffer.read()


def predict(
    model_uri: str,
    input_data: Any = None,
    input_path: str | None = None,
    content_type: str = "json",
    output_path: str | None = None,
    env_manager: str = "local",
    **_ignored: Any,
) -> None:
    """Score the input with the model and write ``{"predictions": ...}`` to ``output_path``
    (or stdout)."""
    from mltrail.models.serving.parsing import ScoringError, parse_body, predictions_json
    from mltrail.models.uri import download_model
    from mltrail.pyfunc import load_model

    media = _MEDIA.get(content_type)
    if media is None:
        raise InvalidParameter(f"content_type must be 'json' or 'csv', got {content_type!r}.")
    if env_manager == "uv":
        _predict_in_uv_env(
            download_model(model_uri), input_data, input_path, content_type, output_path
        )
        return
    if env_manager != "local":
        raise InvalidParameter(f"Unknown env_manager {env_manager!r}; use 'local' or 'uv'.")
    model = load_model(model_uri)
    body = _read_input(input_data, input_path)
    try:
        data, params = parse_body(body, media, model.metadata.get_input_schema())
    except ScoringError as exc:
        raise InvalidParameter(exc.message) from None
    payload = predictions_json(model.predict(data, params=params))
    if output_path:
        with open(output_path, "wb") as f:
            f.write(payload)
    else:
        sys.stdout.buffer.write(payload + b"\n")
        sys.stdout.flush()


def _predict_in_uv_env(
    model_path: str,
    input_data: Any,
    input_path: str | None,
    content_type: str,
    output_path: str | None,
) -> None:
    import tempfile

    from mltrail.environments import prepare_python_env

    spec = os.path.join(model_path, "python_env.yaml")
    if not os.path.isfile(spec):
        raise InvalidParameter(
            f"The model at {model_path!r} has no python_env.yaml; use env_manager='local'."
        )
    python = str(prepare_python_env(spec, env_manager="uv"))
    with tempfile.TemporaryDirectory(prefix="mltrail-predict-") as tmp:
        if input_path is None:
            input_path = os.path.join(tmp, "input")
            with open(input_path, "wb") as f:
                f.write(_read_input(input_data, None))
        args = [
            python,
            "-m",
            "mltrail",
            "models",
            "predict",
            "--model-uri",
            model_path,
            "--input-path",
            input_path,
            "--content-type",
            content_type,
            "--env-manager",
            "local",
        ]
        if output_path:
            args += ["--output-path", output_path]
        done = subprocess.run(args, check=False)
    if done.returncode != 0:
        raise MltrailException(
            f"Scoring in the model's uv environment failed (exit code {done.returncode})."
        )
