"""Installing *this* mltrail into a new environment, so a project's code can log with it.

mltrail is not fetched from an index: the environment gets the caller's own copy, at the
caller's version. An editable install (a source tree) is installed editable from that tree;
a regular install is packed back into a wheel from its installed files (the files and the
``.dist-info`` an installer wrote are a wheel's content) and that wheel is installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mltrail
from mltrail.version import __version__

# mltrail's own floor; older interpreters get the environment without it.
MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class SelfInstall:
    """The installer arguments that put the caller's mltrail into an environment."""

    args: tuple[str, ...]
    description: str

    @property
    def cache_key(self) -> str:
        return f"mltrail {__version__} from {self.description}"


def self_install(cache_dir: str | os.PathLike[str]) -> SelfInstall:
    root = _source_tree()
    if root is not None:
        return SelfInstall(("-e", str(root)), f"source tree {root}")
    dist = _distribution()
    if dist is None:
        raise RuntimeError("mltrail is neither installed nor run from a source tree")
    url = _direct_url(dist)
    location = str(url.get("url", ""))
    dir_info = url.get("dir_info")
    if isinstance(dir_info, dict) and location.startswith("file://"):
        folder = location[len("file://") :]
        if os.path.isdir(folder):
            editable = bool(dir_info.get("editable"))
            return SelfInstall(("-e", folder) if editable else (folder,), f"folder {folder}")
    wheel = _repack_wheel(dist, Path(cache_dir))
    return SelfInstall((str(wheel),), f"wheel {wheel}")


def _source_tree() -> Path | None:
    """The checkout this mltrail is imported from (``<root>/src/mltrail``), if it is one."""
    package_dir = Path(mltrail.__file__).resolve().parent
    root = package_dir.parent.parent
    if package_dir.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def _distribution() -> metadata.Distribution | None:
    try:
        return metadata.distribution("mltrail")
    except metadata.PackageNotFoundError:
        return None


def _direct_url(dist: metadata.Distribution) -> dict[str, object]:
    text = dist.read_text("direct_url.json")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _repack_wheel(dist: metadata.Distribution, cache_dir: Path) -> Path:
    out_dir = cache_dir / "wheels"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"mltrail-{__version__}-py3-none-any.whl"
    if target.exists():
        return target
    files = [f for f in (dist.files or []) if not str(f).startswith("..")]
    skip = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
    record_lines = []
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
    os.close(fd)
    dist_info = ""
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in files:
            name = str(rel)
            if "__pycache__" in name or name.endswith(".pyc"):
                continue
            if ".dist-info/" in name:
                dist_info = name.split("/", 1)[0]
                if name.rsplit("/", 1)[-1] in skip:
                    continue
            data = Path(str(dist.locate_file(rel))).read_bytes()
            zf.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record_lines.append(f"{name},sha256={digest.decode()},{len(data)}")
        record_name = f"{dist_info}/RECORD"
        record_lines.append(f"{record_name},,")
        zf.writestr(record_name, "\n".join(record_lines) + "\n")
    os.replace(tmp, target)
    return target
