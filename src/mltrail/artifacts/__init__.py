"""Artifact storage: pick a repository for a URI, and MLflow's ``download_artifacts``."""

from __future__ import annotations

from collections.abc import Callable

from mltrail.artifacts.base import ArtifactRepository
from mltrail.exceptions import InvalidParameter


def _local(uri: str) -> ArtifactRepository:
    from mltrail.artifacts.local import LocalArtifactRepository

    return LocalArtifactRepository(uri)


def _s3(uri: str) -> ArtifactRepository:
    from mltrail.artifacts.s3 import S3ArtifactRepository

    return S3ArtifactRepository(uri)


def _http(uri: str) -> ArtifactRepository:
    from mltrail.artifacts.http import HttpArtifactRepository

    return HttpArtifactRepository(uri)


def _proxied(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    from mltrail.artifacts.http import resolve_proxied_uri

    return _http(resolve_proxied_uri(uri, tracking_uri))


_BY_SCHEME: dict[str, Callable[[str], ArtifactRepository]] = {
    "": _local,
    "file": _local,
    "s3": _s3,
    "http": _http,
    "https": _http,
    "mlflow-artifacts": _proxied,
}


def get_artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository that stores ``uri`` (plain path, file://, s3://, mlflow-artifacts:/).

    ``mlflow-artifacts:`` URIs are served by a tracking server: ``tracking_uri`` names it
    (default: the current tracking URI).
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
    if factory is _proxied:
        return _proxied(uri, tracking_uri)
    return factory(uri)


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Download an artifact file or folder to a local path and return that path (MLflow's
    ``mlflow.artifacts.download_artifacts``)."""
    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameter("Give either artifact_uri, or run_id (with artifact_path).")
    if run_id is not None:
        from mltrail.tracking.client import TrailClient

        return TrailClient(tracking_uri).download_artifacts(run_id, artifact_path or "", dst_path)
    if artifact_uri.startswith("runs:/"):
        from mltrail.tracking.client import TrailClient

        rest = artifact_uri[len("runs:/") :]
        rid, _, path = rest.partition("/")
        return TrailClient(tracking_uri).download_artifacts(rid, path, dst_path)
    return get_artifact_repository(artifact_uri).download_artifacts("", dst_path)


__all__ = ["ArtifactRepository", "download_artifacts", "get_artifact_repository"]
