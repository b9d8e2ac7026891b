"""Errors of running projects (MLflow's name: ``ExecutionException``)."""

from __future__ import annotations

from mltrail.exceptions import InvalidParameter, MltrailException


class ExecutionException(MltrailException):
    """A project could not be run, or its run failed."""

    default_code = "INVALID_STATE"


class ProjectSpecError(InvalidParameter):
    """The MLproject file, an entry point or a parameter value is wrong; nothing ran."""


class UntrustedSource(MltrailException):
    """A project fetched over the network was not confirmed as trusted."""

    default_code = "PERMISSION_DENIED"


class SourceError(ExecutionException):
    """The project's source could not be fetched (a git URI that does not exist, a version
    that is not in the repository, a folder that is not there)."""


class MissingEnvironmentFile(ProjectSpecError):
    """The MLproject names an environment file that is not in the project."""
