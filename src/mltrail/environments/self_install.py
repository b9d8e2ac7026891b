"""Installing *this* mltrail into a new environment, so a project's code can log with it.

mltrail is not fetched from an index: the environment gets the caller's own copy, at the
caller's version. An editable install (a source tree) is installed editable from that tree;
a regular install is packed back into a wheel from its installed files (the files and the
``.dist-info`` an installer wrote are a wheel's content) and that wheel is installed.
"""

from __future__ import annotations

import base64
import hashlib
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
    """How to put the mltrail running this code into another environment.

    The installed distribution (regular or editable) is packed back into a wheel once and
    cached: installing a ready wheel needs no build step, and an editable install's wheel is
    just its ``.pth`` line pointing at the caller's source tree. Without an installed
    distribution (run from a checkout through ``PYTHONPATH``), the tree is installed editable.
    """
    dist = _distribution()
    if dist is not None and _is_the_imported_one(dist):
        wheel = _repack_wheel(dist, Path(cache_dir))
        packed = f"{wheel.parent.name}/{wheel.name}"
        return SelfInstall((str(wheel),), f"its installed files, packed as {packed}")
    root = _source_tree()
    if root is not None:
        return SelfInstall(("-e", str(root)), f"source tree {root}")
    raise RuntimeError("mltrail is neither installed nor run from a source tree")


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


def _is_the_imported_one(dist: metadata.Distribution) -> bool:
    """The distribution's files are the ones imported (a ``.pth`` naming their folder, or
    the package itself), not another copy that ``PYTHONPATH`` shadows."""
    imported = Path(mltrail.__file__).resolve()
    for rel in dist.files or []:
        name = str(rel)
        if name.endswith(".pth"):
            try:
                lines = Path(str(dist.locate_file(rel))).read_text().splitlines()
            except OSError:
                continue
            if str(imported.parent.parent) in (line.strip() for line in lines):
                return True
        elif (
            name == "mltrail/__init__.py"
            and Path(str(dist.locate_file(rel))).resolve() == imported
        ):
            return True
    return False


def _repack_wheel(dist: metadata.Distribution, cache_dir: Path) -> Path:
    # RECORD lists every installed file with its hash: a new install is a new wheel.
    key = hashlib.sha256(
        (dist.read_text("RECORD") or "").encode() + (dist.read_text("METADATA") or "").encode()
    ).hexdigest()[:16]
    out_dir = cache_dir / "wheels" / key
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"mltrail-{dist.version}-py3-none-any.whl"
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
