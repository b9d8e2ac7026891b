"""Artifacts behind a tracking server's proxy (``http(s)://.../mlflow-artifacts/artifacts/...``
and ``mlflow-artifacts:`` URIs), streamed both ways over the pooled, retrying HTTP client."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from mltrail.entities import FileInfo
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.base import ArtifactRepository
from mltrail.store.artifact.paths import join, safe_relative_path
from mltrail.store.rest_http import may_send_credentials, raise_for_error, shared_client

PROXY_ROUTE = "/mlflow-artifacts/artifacts"
PROXY_PREFIX = "/api/2.0" + PROXY_ROUTE
CHUNK_BYTES = 1024 * 1024


def resolve_proxied_uri(uri: str, tracking_uri: str | None) -> str:
    """``mlflow-artifacts:/x/y`` -> ``<tracking server>/api/2.0/mlflow-artifacts/artifacts/x/y``.

    The scheme and path prefix come from the tracking URI; the host too, unless the URI names
    one (``mlflow-artifacts://host:port/x/y``). The caller names the tracking URI: this layer
    does not know the current one (``mltrail.artifacts`` fills it in).
    """
    tracking = tracking_uri or ""
    if not tracking.startswith(("http://", "https://")):
        raise InvalidParameter(
            f"Cannot open {uri!r}: mlflow-artifacts URIs are served by a tracking server, but "
            f"the tracking URI is {tracking!r}. Set it to the server's http(s) address "
            "(MLTRAIL_TRACKING_URI or mltrail.set_tracking_uri)."
        )
    parsed = urlsplit(uri)
    if parsed.scheme != "mlflow-artifacts" or parsed.query or parsed.fragment:
        raise InvalidParameter(f"Malformed mlflow-artifacts URI {uri!r}.")
    base = urlsplit(tracking)
    netloc = parsed.netloc or base.netloc
    path = base.path.rstrip("/") + PROXY_PREFIX + "/" + parsed.path.lstrip("/")
    return urlunsplit((base.scheme, netloc, path.rstrip("/"), "", ""))


class HttpArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str, tracking_uri: str | None = None) -> None:
        super().__init__(artifact_uri.rstrip("/"))
        parsed = urlsplit(self.artifact_uri)
        if parsed.query or parsed.fragment:
            raise InvalidParameter(f"Artifact URI {artifact_uri!r} must not have ?query or #.")
        self._http = shared_client()
        self._credentials = may_send_credentials(self.artifact_uri, tracking_uri)

    def _url(self, rel_path: str) -> str:
        return f"{self.artifact_uri}/{quote(rel_path, safe='/')}" if rel_path else self.artifact_uri

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return self._http.request(method, url, send_credentials=self._credentials, **kwargs)

    def _put_file(self, local_file: str, rel_path: str) -> None:
        content_type = mimetypes.guess_type(rel_path)[0] or "application/octet-stream"
        # An open file makes requests stream the body; it is rewound on each retry.
        with open(local_file, "rb") as body:
            response = self._send(
                "PUT", self._url(rel_path), data=body, headers={"Content-Type": content_type}
            )
        raise_for_error(response, f"Uploading artifact '{rel_path}'")

    def _get_file(self, rel_path: str, local_file: str) -> None:
        response = self._send("GET", self._url(rel_path), stream=True)
        with response:
            if response.status_code == 404:
                raise NotFound(f"No artifact file at '{rel_path}' under {self.artifact_uri}.")
            raise_for_error(response, f"Downloading artifact '{rel_path}'")
            folder = os.path.dirname(os.path.abspath(local_file))
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        out.write(chunk)
                os.replace(tmp, local_file)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def _list(self, rel_dir: str) -> list[FileInfo]:
        base, sep, root = self.artifact_uri.partition(PROXY_ROUTE)
        if not sep:
            raise InvalidParameter(
                f"Cannot list {self.artifact_uri}: it is not a tracking server's artifact URL."
            )
        query = {"path": join(root.strip("/"), rel_dir)}
        response = self._send("GET", base + PROXY_ROUTE, params=query)
        raise_for_error(response, f"Listing artifacts in '{rel_dir or '.'}'")
        found = []
        for entry in response.json().get("files", []):
            name = str(entry.get("path", ""))
            # Names come from the network: one plain segment each, never a path to follow.
            if "/" in name or "\\" in name or safe_relative_path(name) != name or not name:
                raise InvalidParameter(f"The server listed an unsafe artifact name {name!r}.")
            size = entry.get("file_size")
            is_dir = bool(entry.get("is_dir", False))
            found.append(FileInfo(join(rel_dir, name), is_dir, None if is_dir else _int(size)))
        # Some servers answer a listing of a file with the file itself; a file has no children.
        only = found[0] if len(found) == 1 else None
        if rel_dir and only and not only.is_dir and only.path == join(rel_dir, _base(rel_dir)):
            return []
        return found

    def _delete(self, rel_path: str) -> None:
        response = self._send("DELETE", self._url(rel_path))
        if response.status_code == 404:
            raise NotFound(f"No artifact at '{rel_path}' under {self.artifact_uri}.")
        raise_for_error(response, f"Deleting artifact '{rel_path or '.'}'")


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _int(value: object) -> int | None:
    if not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
