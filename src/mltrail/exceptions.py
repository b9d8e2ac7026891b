"""One exception hierarchy for the whole of mltrail.

Every error a user can cause carries an MLflow ``error_code`` string; the code decides the HTTP
status on the server (MLflow's own mapping, so the real ``mlflow`` client reacts as it would to
MLflow) and the exception class on the client.
"""

from __future__ import annotations

from typing import Any

# error_code -> HTTP status, as MLflow maps them (RESOURCE_ALREADY_EXISTS is 400, not 409).
_STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

_CODE_BY_STATUS: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def http_status_for(error_code: str) -> int:
    """The HTTP status MLflow uses for ``error_code`` (500 for codes it does not list)."""
    return _STATUS_BY_CODE.get(error_code, 500)


def error_code_for_status(status: int) -> str:
    """The error code a client infers from a bare HTTP status (a body that is not JSON)."""
    return _CODE_BY_STATUS.get(status, "INTERNAL_ERROR")


class MltrailException(Exception):
    """Base of every error mltrail raises on purpose. ``str(exc)`` is one clear sentence."""

    default_code = "INTERNAL_ERROR"

    def __init__(self, message: str, error_code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code or self.default_code
        self.extra = extra

    def get_http_status_code(self) -> int:
        return http_status_for(self.error_code)

    def to_dict(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message, **self.extra}

    def serialize_as_json(self) -> str:
        import json

        return json.dumps(self.to_dict())


class InvalidParameter(MltrailException):
    """A value given by the user is malformed, out of range or not allowed."""

    default_code = "INVALID_PARAMETER_VALUE"


# Errors MLflow raises as built-in types (or as its own classes that are also built-in types):
# these are both, so `except ValueError` and `except MlflowException` keep working alike.
class InvalidParameterValue(InvalidParameter, ValueError):
    """A value of the right type that is not allowed (e.g. an unknown ``output_format``)."""


class InvalidParameterType(InvalidParameter, TypeError):
    """A value of a type the call cannot take (e.g. a list as a metric value)."""


class ValueOutOfRange(InvalidParameter, OverflowError):
    """A number outside what the store keeps (e.g. a step of 2**63 or more)."""


class LocalFileNotFound(InvalidParameter, FileNotFoundError):
    """A local file or folder given to log does not exist."""


class ArtifactIsAFolder(InvalidParameter, IsADirectoryError):
    """A file was asked for (``load_text``...) and the path names a folder."""


class NotFound(MltrailException):
    """The experiment, run, model or file asked for does not exist."""

    default_code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(MltrailException):
    """Something with that name exists already."""

    default_code = "RESOURCE_ALREADY_EXISTS"


class InvalidState(MltrailException):
    """The object exists but is in the wrong state for the operation (e.g. deleted)."""

    default_code = "INVALID_STATE"


class ExecutionException(MltrailException):
    """A project could not be run, or its run failed (MLflow's name and code)."""


class SearchSyntaxError(InvalidParameter):
    """A filter or order-by string that does not parse; ``position`` points at the problem."""

    def __init__(self, message: str, position: int | None = None, text: str | None = None) -> None:
        # The position travels in the server's error body too, so a UI can mark the spot.
        extra: dict[str, Any] = {} if position is None else {"position": position}
        super().__init__(message, **extra)
        self.position = position
        self.text = text


class StoreUnavailable(MltrailException):
    """The tracking store cannot be reached (bad URI, database down, server unreachable)."""

    default_code = "TEMPORARILY_UNAVAILABLE"


class RestException(MltrailException):
    """An error answer from a tracking server, rebuilt on the client side."""

    def __init__(self, json_body: dict[str, Any]) -> None:
        code = str(json_body.get("error_code", "INTERNAL_ERROR"))
        message = str(json_body.get("message", ""))
        super().__init__(f"{code}: {message}", error_code=code)
        self.json = json_body


# MLflow-compatible names, so `except mlflow.exceptions.MlflowException` keeps working.
MlflowException = MltrailException

__all__ = [
    "AlreadyExists",
    "ArtifactIsAFolder",
    "InvalidParameter",
    "InvalidParameterType",
    "InvalidParameterValue",
    "InvalidState",
    "LocalFileNotFound",
    "MltrailException",
    "MlflowException",
    "NotFound",
    "RestException",
    "SearchSyntaxError",
    "StoreUnavailable",
    "ValueOutOfRange",
    "error_code_for_status",
    "http_status_for",
]
