"""Errors of running projects. Each is an ``ExecutionException`` (MLflow's class for them,
also in ``mltrail.exceptions``), so that ``except ExecutionException`` code keeps working."""

from __future__ import annotations

from mltrail.exceptions import ExecutionException, InvalidParameter

__all__ = ["ExecutionException", "MissingEnvironmentFile", "ProjectSpecError", "SourceError",
           "UntrustedSource"]


class ProjectSpecError(InvalidParameter, ExecutionException):
    """The MLproject file, an entry point or a parameter value is wrong; nothing ran (a
    precise code, INVALID_PARAMETER_VALUE, where MLflow gives INTERNAL_ERROR)."""


class UntrustedSource(ExecutionException):
    """A project fetched over the network was not confirmed as trusted."""

    default_code = "PERMISSION_DENIED"


class SourceError(ExecutionException):
    """The project's source could not be fetched (a git URI that does not exist, a version
    that is not in the repository, a folder that is not there)."""


class MissingEnvironmentFile(ProjectSpecError):
    """The MLproject names an environment file that is not in the project."""
