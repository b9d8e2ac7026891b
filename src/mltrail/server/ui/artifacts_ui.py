"""The artifact browser's routes: folder listings, previews, raw files and zip downloads.

Raw files are user content. They are served with ``Content-Security-Policy: sandbox`` and
``nosniff``, so an HTML or SVG artifact opened from here runs in an opaque origin with no
scripts, never as a page of this app; the page frames HTML in a sandboxed iframe too.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
import zipfile
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from mltrail.exceptions import InvalidParameter
from mltrail.server.ui.artifact_access import RunArtifacts, run_artifacts
from mltrail.server.ui.common import json_response, settings_of, store_of
from mltrail.server.ui.previews import build_preview, kind_of

router = APIRouter()
RAW_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}
MAX_LISTING = 5000


def artifacts_of(request: Request, run_id: str) -> RunArtifacts:
    run = store_of(request).get_run(run_id)
    return run_artifacts(settings_of(request), run.info.artifact_uri)


def listing(arts: RunArtifacts, path: str) -> dict[str, Any]:
    entries = sorted(arts.list(path), key=lambda f: (not f.is_dir, f.path.lower()))
    return {
        "path": path,
        "entries": [
            {
                "path": f.path,
                "name": f.path.rsplit("/", 1)[-1],
                "is_dir": f.is_dir,
                "size": f.file_size,
            }
            for f in entries[:MAX_LISTING]
        ],
        "truncated": len(entries) > MAX_LISTING,
    }


def preview(arts: RunArtifacts, path: str) -> dict[str, Any]:
    if not path:
        raise InvalidParameter("Choose a file to preview.")
    size = arts.size(path)
    if size is None:
        raise InvalidParameter(f"'{path}' is a folder.")
    with arts.local_file(path) as local:
        return build_preview(local, path, size)


@router.get("/ajax-api/ui/artifacts", include_in_schema=False)
def list_json(request: Request, run_id: str, path: str = "") -> Any:
    return json_response(listing(artifacts_of(request, run_id), path))


@router.get("/ajax-api/ui/artifacts/preview", include_in_schema=False)
def preview_json(request: Request, run_id: str, path: str) -> Any:
    return json_response(preview(artifacts_of(request, run_id), path))


def _disposition(kind: str, name: str) -> str:
    safe = quote(name, safe="")
    return f"{kind}; filename=\"{safe}\"; filename*=UTF-8''{safe}"


def _media_type(path: str) -> str:
    kind = kind_of(path)
    if kind in ("image", "html"):
        return mimetypes.guess_type(path)[0] or "application/octet-stream"
    if kind in ("text", "json", "yaml", "mlmodel") or path.endswith((".csv", ".tsv")):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


@router.get("/ui/artifacts/{run_id}/raw", include_in_schema=False)
def raw_file(request: Request, run_id: str, path: str, download: str = "0") -> Response:
    arts = artifacts_of(request, run_id)
    if arts.size(path) is None:
        raise InvalidParameter(f"'{path}' is a folder: download it as a zip.")
    name = os.path.basename(path)
    headers = {
        **RAW_HEADERS,
        "Content-Disposition": _disposition("attachment" if download == "1" else "inline", name),
    }
    media = "application/octet-stream" if download == "1" else _media_type(path)
    open_file = getattr(arts.repo, "open_file", None)
    if open_file is not None:
        return FileResponse(open_file(arts.path(path)), media_type=media, headers=headers)
    folder = tempfile.mkdtemp(prefix="mltrail-ui-")
    local = arts.repo.download_artifacts(arts.path(path), folder)
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    return FileResponse(local, media_type=media, headers=headers, background=cleanup)


@router.get("/ui/artifacts/{run_id}/zip", include_in_schema=False)
def zip_folder(request: Request, run_id: str, path: str = "") -> Response:
    arts = artifacts_of(request, run_id)
    work = tempfile.mkdtemp(prefix="mltrail-ui-zip-")
    try:
        source = arts.repo.download_artifacts(arts.path(path), os.path.join(work, "files"))
        archive = os.path.join(work, "artifacts.zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            if os.path.isfile(source):
                zf.write(source, os.path.basename(source))
            for folder, _dirs, files in os.walk(source):
                for file_name in sorted(files):
                    full = os.path.join(folder, file_name)
                    zf.write(full, os.path.relpath(full, source))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    name = (os.path.basename(path.rstrip("/")) or f"{run_id}-artifacts") + ".zip"
    headers = {**RAW_HEADERS, "Content-Disposition": _disposition("attachment", name)}
    return FileResponse(
        archive,
        media_type="application/zip",
        headers=headers,
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
