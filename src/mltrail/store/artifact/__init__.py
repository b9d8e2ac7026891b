"""Artifact repositories (local files, S3, a tracking server's proxy) and the choice of one
for a URI.

This layer knows nothing of the current tracking URI: a caller that opens an
``mlflow-artifacts:`` URI, or wants its credentials sent to a server, names the tracking URI
(``mltrail.artifacts.get_artifact_repository`` fills in the current one).
"""

from __future__ import annotations

from collections.abc import Callable

from mltrail.exceptions import InvalidParameter
from mltrail.store.artifact.base import ArtifactRepository


def _local(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from mltrail.store.artifact.local import LocalArtifactRepository

    return LocalArtifactRepository(uri)


def _s3(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from mltrail.store.artifact.s3 import S3ArtifactRepository

    return S3ArtifactRepository(uri)


def _http(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from mltrail.store.artifact.http import HttpArtifactRepository

    return HttpArtifactRepository(uri, tracking_uri)


def _proxied(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from mltrail.store.artifact.http import resolve_proxied_uri

    return _http(resolve_proxied_uri(uri, tracking_uri), tracking_uri)


_BY_SCHEME: dict[str, Callable[[str, str | None], ArtifactRepository]] = {
    "": _local,
    "file": _local,
    "s3": _s3,
    "http": _http,
    "https": _http,
    "mlflow-artifacts": _proxied,
}


def get_artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository that stores ``uri`` (plain path, file://, s3://, http(s)://,
    mlflow-artifacts:/).

    ``tracking_uri`` names the tracking server that serves ``mlflow-artifacts:`` URIs, and the
    one origin besides a ``RestStore``'s that may receive the tracking credentials.
    """
    from urllib.parse import urlparse

    scheme = urlparse(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    factory = _BY_SCHEME.get(scheme.lower())
    if factory is None:
        raise InvalidParameter(
            f"Unsupported artifact URI {uri!r}: known schemes are "
            f"{', '.join(s + ':' for s in _BY_SCHEME if s)} and plain paths."
        )
    return factory(uri, tracking_uri)


__all__ = ["ArtifactRepository", "get_artifact_repository"]
