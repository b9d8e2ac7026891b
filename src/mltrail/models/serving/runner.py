"""Running a scoring server: resolve and load the model once, then uvicorn.

With one worker the app is built in this process. With several, the settings travel to
uvicorn's worker processes through ``MLTRAIL_SCORING_*`` variables and each worker loads its
own copy of the (already downloaded) model in ``app_from_env``. ``env_manager="uv"`` builds
the model's ``python_env.yaml`` into a cached uv environment and re-runs the server there.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mltrail.exceptions import InvalidParameter
from mltrail.server.settings import DEFAULT_MAX_BODY_BYTES

ENV_MANAGERS = ("local", "uv")
_PREFIX = "MLTRAIL_SCORING_"


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    timeout: float = 60.0
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    model_config: dict[str, Any] = field(default_factory=dict)

    def to_env(self, model_path: str) -> dict[str, str]:
        import json

        return {
            f"{_PREFIX}MODEL_PATH": model_path,
            f"{_PREFIX}TIMEOUT": str(self.timeout),
            f"{_PREFIX}ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            f"{_PREFIX}CORS_ALLOWED_ORIGINS": ",".join(self.cors_allowed_origins),
            f"{_PREFIX}MAX_BODY_BYTES": str(self.max_body_bytes),
            f"{_PREFIX}MODEL_CONFIG": json.dumps(self.model_config),
        }


def load_for_serving(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    from mltrail.models.serving.deferred_stats import stats_deferred
    from mltrail.models.serving.lean_load import (
        HIDDEN_MODULES,
        loads_without_pandas,
        optional_imports_hidden,
    )
    from mltrail.pyfunc import load_model

    model = None
    if loads_without_pandas(model_path):
        try:
            with optional_imports_hidden(), stats_deferred():
                model = load_model(model_path, model_config=model_config or None)
        except ImportError as exc:
            if exc.name not in HIDDEN_MODULES:
                raise
    if model is None:
        model = load_model(model_path, model_config=model_config or None)
    if "sklearn" in model.metadata.flavors:
        from mltrail.sklearn import enable_fast_numeric_predict

        enable_fast_numeric_predict()
    return model


def build_app(model_path: str, options: ServeOptions) -> Any:
    from mltrail.models.serving.app import create_scoring_app

    with startup_without_gc():
        model = load_for_serving(model_path, options.model_config)
        return create_scoring_app(
            model,
            timeout=options.timeout,
            allowed_hosts=options.allowed_hosts,
            cors_allowed_origins=options.cors_allowed_origins,
            max_body_bytes=options.max_body_bytes,
        )


@contextmanager
def startup_without_gc() -> Iterator[None]:
    """No garbage collection while starting: importing the libraries and loading the model
    create a great many objects that all stay alive, so collecting meanwhile is wasted work
    (about a sixth of the start-up). Afterwards they are frozen out of later collections,
    which then never walk them on a request."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def app_from_env() -> Any:
    """Entry point for uvicorn's workers (``--workers N``)."""
    import json

    def items(name: str) -> tuple[str, ...]:
        return tuple(x for x in os.environ.get(_PREFIX + name, "").split(",") if x)

    options = ServeOptions(
        timeout=float(os.environ.get(f"{_PREFIX}TIMEOUT", "60")),
        allowed_hosts=items("ALLOWED_HOSTS"),
        cors_allowed_origins=items("CORS_ALLOWED_ORIGINS"),
        max_body_bytes=int(os.environ.get(f"{_PREFIX}MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
        model_config=json.loads(os.environ.get(f"{_PREFIX}MODEL_CONFIG") or "{}"),
    )
    return build_app(os.environ[f"{_PREFIX}MODEL_PATH"], options)


def serve(model_uri: str, options: ServeOptions, env_manager: str = "local") -> None:
    """Serve the model at ``model_uri`` until interrupted."""
    with startup_without_gc():
        import uvicorn

        from mltrail.models.uri import download_model

    if env_manager not in ENV_MANAGERS:
        raise InvalidParameter(
            f"Unknown --env-manager {env_manager!r}; use one of {', '.join(ENV_MANAGERS)}."
        )
    local = download_model(model_uri)
    if env_manager == "uv":
        _exec_in_uv_env(local, options)
        return
    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "log_level": "warning",
        "access_log": False,
        "ws": "none",  # no websockets to serve: skip importing them
    }
    if options.workers == 1:
        app = build_app(local, options)
        _announce(model_uri, options)
        uvicorn.run(app, **common)
        return
    load_for_serving(local, options.model_config)  # fail here, once, if it cannot load
    os.environ.update(options.to_env(local))
    _announce(model_uri, options)
    uvicorn.run(
        "mltrail.models.serving.runner:app_from_env",
        factory=True,
        workers=options.workers,
        **common,
    )


def _announce(model_uri: str, options: ServeOptions) -> None:
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    lines = [
        f"mltrail scoring server: {model_uri}",
        f"  POST http://{host}:{options.port}/invocations  (workers: {options.workers})",
    ]
    if options.host in ("0.0.0.0", "::"):
        lines.append("  note: listening on every interface without authentication.")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def _exec_in_uv_env(model_path: str, options: ServeOptions) -> None:
    """Replace this process with the same server run by the model's own environment."""
    from mltrail.environments import prepare_python_env

    spec = os.path.join(model_path, "python_env.yaml")
    if not os.path.isfile(spec):
        raise InvalidParameter(
            f"The model at {model_path!r} has no python_env.yaml, so --env-manager uv cannot "
            "build its environment; use --env-manager local."
        )
    python = str(prepare_python_env(spec, env_manager="uv"))
    args = [
        python,
        "-m",
        "mltrail",
        "models",
        "serve",
        "--model-uri",
        model_path,
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--workers",
        str(options.workers),
        "--timeout",
        str(options.timeout),
        "--env-manager",
        "local",
    ]
    os.environ.update(options.to_env(model_path))
    os.execv(python, args)
