"""Errors of environment building: each one sentence, with the installer's output when there
is one (the tail of it; the whole log is kept beside the environment and with the run)."""

from __future__ import annotations

from mltrail.exceptions import InvalidParameter, MltrailException


class EnvironmentSpecError(InvalidParameter):
    """A python_env / conda / docker environment description that cannot be used."""


class PythonNotAvailable(MltrailException):
    """The Python version an environment asks for is not on this machine and cannot be had."""

    default_code = "INVALID_PARAMETER_VALUE"


class EnvironmentBuildError(MltrailException):
    """An installer (uv, pip, conda) failed; ``output`` holds what it printed."""

    default_code = "INVALID_STATE"

    def __init__(self, message: str, output: str = "", log_path: str | None = None) -> None:
        tail = _tail(output)
        full = message
        if tail:
            full += "\n--- installer output (last lines) ---\n" + tail
        if log_path:
            full += f"\n(full log: {log_path})"
        super().__init__(full)
        self.output = output
        self.log_path = log_path


class ToolNotFound(MltrailException):
    """A program an environment needs (conda, docker) is not installed or not answering."""

    default_code = "INVALID_STATE"


def _tail(output: str, lines: int = 30) -> str:
    kept = [line for line in output.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
