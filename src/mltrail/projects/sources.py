"""Where a project's code comes from: a local folder (run in place), a git repository
(``file://``, ``https://``, ``ssh://``, ``git://``, ``git@host:path``) at a ``--version``, or
a ``.zip`` / ``.tar.gz`` / ``.tgz`` archive (a file, or ``https://``), each optionally in a
``#subdirectory``.

A repository is mirrored once into the cache (``<cache>/repos/``) and fetched again on later
runs; each run gets its own fresh copy of the wanted commit (``git archive``), so files a run
writes never leak into the next. The commit is recorded on the run.

Code fetched over the network runs only once the user trusts it (see :func:`confirm_trust`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mltrail.projects.errors import ProjectSpecError, SourceError, UntrustedSource

_NETWORK_SCHEMES = ("https://", "http://", "git://", "ssh://", "git+ssh://", "git+https://")
_SCP_LIKE = re.compile(r"^[\w.\-]+@[\w.\-]+:(?!//)")
TRUST_FLAG = "--trust"


@dataclass(frozen=True)
class ProjectSource:
    """A fetched project: ``root`` holds the code (the subdirectory already applied)."""

    uri: str
    root: Path
    source_name: str
    commit: str | None = None
    repo_url: str | None = None
    branch: str | None = None
    is_remote: bool = False


def split_subdirectory(uri: str) -> tuple[str, str]:
    if "#" not in uri:
        return uri, ""
    base, sub = uri.split("#", 1)
    sub = sub.strip("/")
    parts = sub.split("/")
    if not sub or os.path.isabs(sub) or ".." in parts or "." in parts:
        raise ProjectSpecError(
            f"Invalid subdirectory {sub!r} in {uri!r}: give a path inside the repository, "
            "without '.' or '..'."
        )
    return base, sub


ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")


def is_archive_uri(uri: str) -> bool:
    path = uri.split("?", 1)[0].lower()
    return path.endswith(ARCHIVE_SUFFIXES) and not _SCP_LIKE.match(uri)


def is_network_uri(uri: str) -> bool:
    return uri.startswith(_NETWORK_SCHEMES) or bool(_SCP_LIKE.match(uri))


def confirm_trust(uri: str, trust: bool, ask: Callable[[str], bool] | None = None) -> None:
    """Code from the network runs only when trusted: by the flag, or by a yes typed at a
    terminal. With no terminal (a script, CI) the answer is no."""
    if trust or not is_network_uri(uri):
        return
    if ask is None:
        if not (sys.stdin and sys.stdin.isatty()):
            raise UntrustedSource(
                f"Refusing to run {uri}: it is fetched from the network and runs its own "
                f"commands, and there is no terminal to confirm that you trust it. Pass "
                f"{TRUST_FLAG} (trust=True in Python) to run it."
            )
        ask = _ask_terminal
    if not ask(uri):
        raise UntrustedSource(f"Not running {uri}: not confirmed as trusted.")


def _ask_terminal(uri: str) -> bool:
    sys.stderr.write(
        f"mltrail: {uri} is fetched from the network and will run its own commands on this "
        "machine.\nDo you trust it? [y/N] "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def default_cache_dir() -> Path:
    configured = os.environ.get("MLTRAIL_PROJECT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "projects"


def fetch_project(
    uri: str, version: str | None = None, cache_dir: Path | None = None
) -> ProjectSource:
    base, sub = split_subdirectory(uri)
    if version is not None and (not version.strip() or version.startswith("-")):
        raise ProjectSpecError(f"Invalid version {version!r}: give a branch, tag or commit.")
    if is_archive_uri(base):
        if version is not None:
            raise ProjectSpecError(
                f"--version is given, but {base} is an archive; a version can be chosen only "
                "for git projects."
            )
        from mltrail.projects.archives import fetch_archive

        root, name = fetch_archive(base, sub, uri, cache_dir or default_cache_dir())
        return ProjectSource(uri, root, name, is_remote=is_network_uri(base))
    if is_network_uri(base):
        return _fetch_git(uri, base, base, sub, version, cache_dir, remote=True)
    local = base[len("file://") :] if base.startswith("file://") else base
    folder = Path(os.path.expanduser(local)).resolve()
    if not folder.exists():
        raise SourceError(f"Project {uri!r} not found: {folder} does not exist.")
    if not folder.is_dir():
        raise SourceError(f"Project {uri!r} is not a folder: {folder}.")
    top = _git_toplevel(folder)
    if version is not None or (base.startswith("file://") and top is not None):
        if top is None:
            raise ProjectSpecError(
                f"--version is given, but {folder} is not a git repository; a version can be "
                "chosen only for git projects."
            )
        return _fetch_git(uri, str(folder), f"file://{folder}", sub, version, cache_dir,
                          remote=False)
    root = _subfolder(folder, sub, uri)
    if top is None:
        return ProjectSource(uri, root, str(root))
    commit = _git(["rev-parse", "HEAD"], folder, check=False)
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], folder, check=False)
    origin = _git(["config", "--get", "remote.origin.url"], folder, check=False)
    name = f"file://{folder}" + (f"#{sub}" if sub else "")
    return ProjectSource(
        uri, root, name, commit or None, _strip_credentials(origin) if origin else None,
        branch if branch and branch != "HEAD" else None,
    )


def _fetch_git(
    uri: str,
    clone_from: str,
    display: str,
    sub: str,
    version: str | None,
    cache_dir: Path | None,
    remote: bool,
) -> ProjectSource:
    import hashlib  # git sources only

    cache = cache_dir or default_cache_dir()
    mirror = cache / "repos" / (hashlib.sha256(clone_from.encode()).hexdigest()[:20] + ".git")
    mirror.parent.mkdir(parents=True, exist_ok=True)
    if (mirror / "HEAD").exists():
        _run_git(["fetch", "--prune", "--quiet", "origin"], mirror, uri)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="clone-", dir=mirror.parent))
        _run_git(["clone", "--mirror", "--quiet", "--", clone_from, str(tmp / "repo.git")],
                 mirror.parent, uri)
        with contextlib.suppress(OSError):  # another process made it first: theirs is as good
            os.replace(tmp / "repo.git", mirror)
        shutil.rmtree(tmp, ignore_errors=True)
    wanted = version or "HEAD"
    commit = _git(["rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}"], mirror,
                  check=False)
    if not commit:
        raise SourceError(
            f"Version {wanted!r} is not a branch, tag or commit of {display}."
        )
    branch = None
    if version and _git(["rev-parse", "--verify", "--quiet", f"refs/heads/{version}"], mirror,
                        check=False):
        branch = version
    checkout = Path(tempfile.mkdtemp(prefix=f"{commit[:12]}-", dir=_mkdir(cache / "checkouts")))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=mirror, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SourceError(f"Could not read commit {commit} of {display}: "
                          f"{archive.stderr.decode(errors='replace').strip()}")
    import tarfile  # git sources only

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(checkout, filter="data")
    root = _subfolder(checkout, sub, uri)
    name = display + (f"#{sub}" if sub else "")
    return ProjectSource(uri, root, name, commit, _strip_credentials(display), branch, remote)


def _subfolder(folder: Path, sub: str, uri: str) -> Path:
    if not sub:
        return folder
    root = (folder / sub).resolve()
    if not root.is_dir() or not str(root).startswith(str(folder.resolve())):
        raise SourceError(f"Subdirectory {sub!r} of {uri!r} does not exist.")
    return root


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _git_toplevel(folder: Path) -> str | None:
    # Most project folders are in no repository: looking for a `.git` entry up the tree is a
    # few stats, where asking git costs a process. GIT_DIR points git elsewhere: ask it then.
    if not os.environ.get("GIT_DIR") and not any(
        (parent / ".git").exists() for parent in (folder, *folder.parents)
    ):
        return None
    return _git(["rev-parse", "--show-toplevel"], folder, check=False) or None


_GIT_SAFETY = ["-c", "protocol.ext.allow=never", "-c", "core.askPass=true"]


def _git(args: list[str], cwd: Path, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", *_GIT_SAFETY, *args], cwd=cwd, capture_output=True,
                              text=True, timeout=60, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _run_git(args: list[str], cwd: Path, uri: str) -> None:
    try:
        done = subprocess.run(["git", *_GIT_SAFETY, *args], cwd=cwd, capture_output=True,
                              text=True, timeout=600, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise SourceError("git is not installed; it is needed to fetch git projects.") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"Fetching {uri} took longer than 10 minutes; gave up.") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        detail = " ".join(lines[-3:]) if lines else f"git exited with {done.returncode}"
        raise SourceError(f"Could not fetch the git repository {uri}: {detail}")


def _strip_credentials(url: str) -> str:
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
