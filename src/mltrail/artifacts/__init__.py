"""MLflow's ``mlflow.artifacts``: read and fetch artifacts by URI.

A URI is ``runs:/<run_id>/<path>``, ``models:/<model_id>[/<path>]`` (a logged model; the
registry adds ``models:/<name>/<version>``), or a storage URI (a path, ``file://``, ``s3://``,
``mlflow-artifacts:/``, ``http(s)://``). The repositories themselves live in
``mltrail.store.artifact``; this module adds what needs the tracking layer: the current
tracking URI and the resolution of run and model URIs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from mltrail.entities import FileInfo
from mltrail.exceptions import ArtifactIsAFolder, InvalidParameter
from mltrail.store.artifact import ArtifactRepository
from mltrail.store.artifact import get_artifact_repository as _repository_for

_T = TypeVar("_T")


def get_artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository that stores ``uri``; ``mlflow-artifacts:`` URIs go to the tracking
    server ``tracking_uri`` (default: the current tracking URI)."""
    from mltrail.tracking.uri import get_tracking_uri

    return _repository_for(uri, tracking_uri or get_tracking_uri())


def _locate(
    artifact_uri: str | None,
    run_id: str | None,
    artifact_path: str | None,
    tracking_uri: str | None,
    whole: bool = False,
    registry_uri: str | None = None,
) -> tuple[ArtifactRepository, str]:
    """(repository, path in it) for MLflow's ``artifact_uri`` / ``run_id`` pair. With
    ``whole`` an ``artifact_uri`` is the repository's root (listing); else its last segment
    is the path (downloading a file or a folder by name)."""
    from mltrail.tracking.artifact_uris import resolve_artifact_location
    from mltrail.tracking.client import TrailClient

    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameter("Give either artifact_uri, or run_id (with artifact_path).")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameter("artifact_path goes with run_id; put it in artifact_uri instead.")
    client = TrailClient(tracking_uri, registry_uri)
    if run_id is not None:
        root, path = resolve_artifact_location(f"runs:/{run_id}/{artifact_path or ''}", client)
    else:
        assert artifact_uri is not None
        root, path = resolve_artifact_location(artifact_uri, client)
        if whole and path:
            root, path = f"{root.rstrip('/')}/{path}", ""
        elif not whole and not artifact_uri.startswith(("runs:", "models:")):
            root, path = _split_last(root)
    return _repository_for(root, client.tracking_uri), path


def _split_last(uri: str) -> tuple[str, str]:
    """``s3://b/x/y.txt`` -> (``s3://b/x``, ``y.txt``): the parent's URI and the name."""
    trimmed = uri.rstrip("/")
    head, sep, name = trimmed.rpartition("/")
    if not sep or not name or head.endswith(":") or head.endswith(":/") or head in ("", "/"):
        return trimmed, ""
    return head, name


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> str:
    """Download an artifact file or folder to a local path and return that path
    (``registry_uri`` is where ``models:/<name>/<version>`` URIs are looked up)."""
    repo, path = _locate(artifact_uri, run_id, artifact_path, tracking_uri, False, registry_uri)
    return repo.download_artifacts(path, dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The files and folders directly under an artifact folder: paths relative to the run's
    artifact root for ``run_id`` and ``runs:/`` URIs, as MLflow gives them; relative to the
    folder itself for other URIs."""
    by_run = artifact_uri is not None and artifact_uri.startswith("runs:")
    repo, path = _locate(artifact_uri, run_id, artifact_path, tracking_uri, whole=not by_run)
    return repo.list_artifacts(path or None)


def _read_file(artifact_uri: str, read: Callable[[str], _T]) -> _T:
    """``read(local path)`` of one downloaded file, in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mltrail-load-") as tmp:
        path = download_artifacts(artifact_uri=artifact_uri, dst_path=tmp)
        if os.path.isdir(path):
            raise ArtifactIsAFolder(f"{artifact_uri!r} is a folder; give the URI of one file.")
        return read(path)


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_text(artifact_uri: str) -> str:
    """The content of a text artifact."""
    return _read_file(artifact_uri, _text)


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A JSON artifact as a dict (YAML if its name ends in ``.yaml`` or ``.yml``)."""
    text = load_text(artifact_uri)
    if artifact_uri.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InvalidParameter(f"{artifact_uri!r} is not valid YAML: {e}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise InvalidParameter(
                f"{artifact_uri!r} is not valid JSON: {e}", error_code="BAD_REQUEST"
            ) from None
    if not isinstance(data, dict):
        raise InvalidParameter(f"{artifact_uri!r} holds a {type(data).__name__}, not a dict.")
    return data


def load_image(artifact_uri: str) -> Any:
    """An image artifact as a ``PIL.Image.Image`` (needs Pillow: ``mltrail[images]``)."""
    try:
        from PIL import Image
    except ImportError:
        raise InvalidParameter("load_image needs Pillow: pip install 'mltrail[images]'") from None

    def read(path: str) -> Any:
        image = Image.open(path)
        image.load()  # the pixels, read before the file's folder is removed
        return image

    return _read_file(artifact_uri, read)


__all__ = [
    "download_artifacts",
    "get_artifact_repository",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
]
