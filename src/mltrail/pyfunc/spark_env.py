"""``spark_udf(..., env_manager="uv")``: scoring in the model's own environment.

The model's ``python_env.yaml`` is built by uv into the environment cache shared with
``mltrail models serve --env-manager uv`` and ``mltrail run`` (keyed by a hash of the spec, so
it is built once per machine). Each Spark task then starts one scoring server with that
environment's Python, on a free local port, and sends it its batches as ``dataframe_split``
JSON; the server stops when the task's batches are done.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException

ENV_MANAGERS = ("local", "uv")


def check_env_manager(env_manager: str | None) -> str:
    """``"local"`` or ``"uv"``; a clear error naming both for anything else."""
    if env_manager in (None, "local"):
        return "local"
    if env_manager == "uv":
        return "uv"
    raise InvalidParameter(
        f"spark_udf does not support env_manager={env_manager!r}. Use 'local' (score in the "
        "executors' own Python) or 'uv' (build the model's python_env.yaml with uv, cached "
        "by its hash, and score in it); conda and virtualenv environments are not built here."
    )


def env_python(model_path: str) -> str:
    """The Python of the model's uv environment, built (or taken from the cache) here."""
    from mltrail.environments import prepare_python_env

    spec = os.path.join(model_path, "python_env.yaml")
    if not os.path.isfile(spec):
        raise InvalidParameter(
            f"The model at {model_path!r} has no python_env.yaml, so env_manager='uv' cannot "
            "build its environment; use env_manager='local'."
        )
    return str(prepare_python_env(spec, env_manager="uv", quiet=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EnvScorer:
    """A scoring server for one model, run by another Python, for one task's batches."""

    def __init__(self, python: str, model_path: str, start_timeout: float = 300.0) -> None:
        import requests

        self._session = requests.Session()
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        args = [python, "-m", "mltrail", "models", "serve", "-m", model_path, "-p", str(port)]
        args += ["--env-manager", "local"]
        # Its messages go to a file: a pipe nobody reads could fill and block the server.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True
        )
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                error = self._log.read().decode(errors="replace")
                self._log.close()
                raise MltrailException(
                    "The model's scoring server in its uv environment exited with code "
                    f"{self._proc.returncode}: {error.strip()[-2000:]}"
                )
            try:
                if self._session.get(self.url + "/ping", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.close()
        raise MltrailException(
            f"The model's scoring server did not start within {start_timeout:.0f} s."
        )

    def predict(self, frame: Any, params: dict[str, Any] | None) -> Any:
        """The model's predictions for a pandas DataFrame (an array, or a DataFrame of
        records)."""
        import numpy as np
        import pandas as pd

        body: dict[str, Any] = {
            "dataframe_split": json.loads(frame.to_json(orient="split", index=False))
        }
        if params:
            body["params"] = params
        answer = self._session.post(
            self.url + "/invocations",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
            timeout=600,
        )
        if answer.status_code != 200:
            raise MltrailException(
                f"The model failed on a batch ({answer.status_code}): {answer.text[:2000]}"
            )
        predictions = answer.json()["predictions"]
        if predictions and isinstance(predictions, list) and isinstance(predictions[0], dict):
            return pd.DataFrame(predictions)
        return np.asarray(predictions)

    def close(self) -> None:
        self._session.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
