"""Installing *this* mltrail into a new environment, so a project's code can log with it.

mltrail is not fetched from an index: the environment gets the caller's own copy, at the
caller's version. An editable install (a source tree) is installed editable from that tree;
a regular install is packed back into a wheel from its installed files (the files and the
``.dist-info`` an installer wrote are a wheel's content) and that wheel is installed.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mltrail
from mltrail.version import __version__

if TYPE_CHECKING:
    from importlib import metadata

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
        return SelfInstall((str(wheel),), _packed_description(_wheel_key(dist), dist.version))
    root = _source_tree()
    if root is not None:
        return SelfInstall(("-e", str(root)), f"source tree {root}")
    raise RuntimeError("mltrail is neither installed nor run from a source tree")


def self_install_key(cache_dir: str | os.PathLike[str]) -> str:
    """``self_install(cache_dir).cache_key``, without packing a wheel, and cheap on the
    second call from any process.

    Finding and reading mltrail's installed metadata costs tens of milliseconds, and a cached
    environment needs only this key. The answer is remembered in ``<cache>/wheels/
    self-install.json`` with the size and mtime of the distribution's ``RECORD``, which an
    installer rewrites on every (re)install: one stat tells whether it still holds.
    """
    memo_path = Path(cache_dir) / "wheels" / "self-install.json"
    stamp = f"{Path(mltrail.__file__).resolve()}|{__version__}|{sys.prefix}"
    memo = _read_memo(memo_path)
    if memo.get("stamp") == stamp and _record_stat(memo.get("record")) == memo.get("stat"):
        return str(memo["key"])
    dist = _distribution()
    if dist is not None and _is_the_imported_one(dist):
        key = f"mltrail {__version__} from " + _packed_description(_wheel_key(dist),
                                                                   dist.version)
        record = _record_path(dist)
        stat = _record_stat(record)
        if stat is not None:
            _write_memo(memo_path, {"stamp": stamp, "record": record, "stat": stat,
                                    "key": key})
        return key
    return self_install(cache_dir).cache_key  # a source tree: no metadata to remember


def _packed_description(wheel_key: str, version: str) -> str:
    return f"its installed files, packed as {wheel_key}/mltrail-{version}-py3-none-any.whl"


def _wheel_key(dist: metadata.Distribution) -> str:
    # RECORD lists every installed file with its hash: a new install is a new wheel.
    import hashlib  # not needed on the cached path (the key comes from the memo)

    return hashlib.sha256(
        (dist.read_text("RECORD") or "").encode() + (dist.read_text("METADATA") or "").encode()
    ).hexdigest()[:16]


def _record_path(dist: metadata.Distribution) -> str | None:
    for rel in dist.files or []:
        if str(rel).endswith(".dist-info/RECORD"):
            return str(Path(str(dist.locate_file(rel))).resolve())
    return None


def _record_stat(path: object) -> list[int] | None:
    if not isinstance(path, str):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read_memo(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_memo(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # only a shortcut: the next call works it out again


def _source_tree() -> Path | None:
    """The checkout this mltrail is imported from (``<root>/src/mltrail``), if it is one."""
    package_dir = Path(mltrail.__file__).resolve().parent
    root = package_dir.parent.parent
    if package_dir.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def _distribution() -> metadata.Distribution | None:
    from importlib import metadata  # not needed on the cached path

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
    import base64
    import hashlib
    import tempfile
    import zipfile

    key = _wheel_key(dist)
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
