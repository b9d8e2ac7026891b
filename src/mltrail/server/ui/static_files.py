"""Static files of the UI, and plotly.js straight from the installed ``plotly`` package."""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mltrail.server.ui.templating import STATIC_DIR

router = APIRouter()

_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# URLs carry a content hash (see ``static_url``), so a file may be cached for good.
_CACHE = "public, max-age=31536000, immutable"


@functools.cache
def _load(path: Path) -> tuple[bytes, bytes, str]:
    """The file's bytes, their gzip and an ETag, made once per process."""
    raw = path.read_bytes()
    etag = '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'
    return raw, gzip.compress(raw, compresslevel=6, mtime=0), etag


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _send(request: Request, path: Path) -> Response:
    raw, packed, etag = _load(path)
    # Versioned URLs (pages) are cached for good; a module importing "./common.js" has no
    # version, so such requests revalidate with the ETag instead.
    cache = _CACHE if "v" in request.query_params else "no-cache"
    headers = {
        "Cache-Control": cache,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media, headers=headers)
    return Response(raw, media_type=media, headers=headers)


@router.get("/ui/static/plotly.min.js", include_in_schema=False)
def plotly_js(request: Request) -> Response:
    return _send(request, plotly_js_path())


@router.get("/ui/static/{name}", include_in_schema=False)
def static_file(request: Request, name: str) -> Response:
    # Flat folder and a fixed listing: no path from the URL ever reaches the filesystem.
    files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}
    path = files.get(name)
    if path is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return _send(request, path)
