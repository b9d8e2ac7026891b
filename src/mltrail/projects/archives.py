"""Projects packed as an archive: a ``.zip``, ``.tar.gz`` or ``.tgz`` file, local or over
``https://``. Each run gets its own fresh copy, unpacked safely (no member may land outside the
folder, no links out of it). An archive holding one folder and nothing else (what GitHub's
"Download ZIP" makes) is entered, so its ``MLproject`` is found; a ``#subdirectory`` is looked
for in the archive's root, then in that one folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from mltrail.projects.errors import SourceError

_DOWNLOAD_TIMEOUT = 120


def fetch_archive(base: str, sub: str, uri: str, cache: Path) -> tuple[Path, str]:
    """(the project's folder, its source name) for the archive at ``base``."""
    checkouts = cache / "checkouts"
    checkouts.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="archive-", dir=checkouts))
    if base.startswith(("https://", "http://")):
        archive = scratch / ("download" + _suffix(base))
        _download(base, archive, uri)
        display = base
    else:
        local = base[len("file://"):] if base.startswith("file://") else base
        archive = Path(os.path.expanduser(local)).resolve()
        if not archive.is_file():
            raise SourceError(f"Project {uri!r} not found: {archive} does not exist.")
        display = str(archive)
    folder = scratch / "project"
    _unpack(archive, folder, uri)
    top = _single_folder(folder)
    root = top
    if sub:  # inside the archive's root, or else inside its one folder
        root = (folder / sub).resolve()
        if not root.is_dir():
            root = (top / sub).resolve()
    if not root.is_dir() or not str(root).startswith(str(folder.resolve())):
        raise SourceError(f"Subdirectory {sub!r} of {uri!r} does not exist.")
    return root, display + (f"#{sub}" if sub else "")


def _suffix(url: str) -> str:
    path = url.split("?", 1)[0].lower()
    return ".zip" if path.endswith(".zip") else ".tar.gz"


def _download(url: str, target: Path, uri: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response, open(
            target, "wb"
        ) as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise SourceError(f"Could not download the project archive {uri}: {exc}") from None


def _unpack(archive: Path, folder: Path, uri: str) -> None:
    folder.mkdir(parents=True)
    try:
        if archive.name.lower().endswith(".zip"):
            import zipfile

            with zipfile.ZipFile(archive) as zipped:
                for member in zipped.namelist():
                    target = (folder / member).resolve()
                    if not str(target).startswith(str(folder.resolve()) + os.sep) and (
                        target != folder.resolve()
                    ):
                        raise SourceError(
                            f"The archive {uri} has a member outside its folder: {member!r}."
                        )
                zipped.extractall(folder)
        else:
            import tarfile

            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt or refused archive: one sentence
        raise SourceError(f"Could not unpack the project archive {uri}: {exc}") from None


def _single_folder(folder: Path) -> Path:
    entries = [e for e in folder.iterdir() if e.name not in ("__MACOSX",)]
    if len(entries) == 1 and entries[0].is_dir() and not (folder / "MLproject").exists():
        return entries[0]
    return folder
