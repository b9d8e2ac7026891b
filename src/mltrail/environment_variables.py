"""MLflow's ``mlflow.environment_variables``: the variables mltrail reads, as objects with
``name``, ``default``, ``get()``, ``is_set()``, ``set()`` and ``unset()``.

``MLFLOW_*`` names are MLflow's; where mltrail also reads an ``MLTRAIL_*`` twin, that twin
wins when both are set (``get`` reads it first).
"""

from __future__ import annotations

import os
from typing import Any, Generic, TypeVar, cast

from mltrail.exceptions import InvalidParameter

T = TypeVar("T", str, int, float, bool)

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


class EnvironmentVariable(Generic[T]):
    """One environment variable with a type and a default."""

    def __init__(self, name: str, type_: type[T], default: T | None) -> None:
        self.name = name
        self.type: type[T] = type_
        self.default: T | None = default

    @property
    def twin(self) -> str | None:
        """The ``MLTRAIL_*`` spelling read before this one, if any."""
        return "MLTRAIL_" + self.name[len("MLFLOW_") :] if self.name.startswith("MLFLOW_") else None

    def _raw(self) -> str | None:
        for name in (self.twin, self.name):
            if name and name in os.environ:
                return os.environ[name]
        return None

    def is_set(self) -> bool:
        return self._raw() is not None

    def get(self) -> T | None:
        raw = self._raw()
        if raw is None:
            return self.default
        if self.type is bool:
            lowered = raw.strip().lower()
            if lowered not in _TRUE + _FALSE:
                raise InvalidParameter(f"{self.name} must be true or false, got {raw!r}.")
            parsed: Any = lowered in _TRUE  # T is bool on this branch
            return cast(T, parsed)
        try:
            return self.type(raw)
        except ValueError:
            raise InvalidParameter(
                f"{self.name} must be a {self.type.__name__}, got {raw!r}."
            ) from None

    def set(self, value: Any) -> None:
        os.environ[self.name] = str(value).lower() if isinstance(value, bool) else str(value)

    def unset(self) -> None:
        os.environ.pop(self.name, None)

    def __repr__(self) -> str:
        return f"{self.name} (default: {self.default!r})"


MLFLOW_TRACKING_URI = EnvironmentVariable("MLFLOW_TRACKING_URI", str, None)
MLFLOW_REGISTRY_URI = EnvironmentVariable("MLFLOW_REGISTRY_URI", str, None)
MLFLOW_EXPERIMENT_NAME = EnvironmentVariable("MLFLOW_EXPERIMENT_NAME", str, None)
MLFLOW_EXPERIMENT_ID = EnvironmentVariable("MLFLOW_EXPERIMENT_ID", str, None)
MLFLOW_RUN_ID = EnvironmentVariable("MLFLOW_RUN_ID", str, None)
MLFLOW_TRACKING_USERNAME = EnvironmentVariable("MLFLOW_TRACKING_USERNAME", str, None)
MLFLOW_TRACKING_PASSWORD = EnvironmentVariable("MLFLOW_TRACKING_PASSWORD", str, None)
MLFLOW_TRACKING_TOKEN = EnvironmentVariable("MLFLOW_TRACKING_TOKEN", str, None)
MLFLOW_TRACKING_INSECURE_TLS = EnvironmentVariable("MLFLOW_TRACKING_INSECURE_TLS", bool, False)
MLFLOW_TRACKING_SERVER_CERT_PATH = EnvironmentVariable(
    "MLFLOW_TRACKING_SERVER_CERT_PATH", str, None
)
MLFLOW_HTTP_REQUEST_MAX_RETRIES = EnvironmentVariable("MLFLOW_HTTP_REQUEST_MAX_RETRIES", int, 5)
MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR = EnvironmentVariable(
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", float, 1.0
)
MLFLOW_HTTP_REQUEST_TIMEOUT = EnvironmentVariable("MLFLOW_HTTP_REQUEST_TIMEOUT", float, 120.0)
MLFLOW_S3_ENDPOINT_URL = EnvironmentVariable("MLFLOW_S3_ENDPOINT_URL", str, None)
MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING = EnvironmentVariable(
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", bool, False
)

__all__ = [name for name in dir() if name.startswith("MLFLOW_")] + ["EnvironmentVariable"]
