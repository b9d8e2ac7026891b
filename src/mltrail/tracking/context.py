"""System tags recorded on every new run: who, from what source, at which git commit.

Computed once per process (a git call costs milliseconds, a run must not).
"""

from __future__ import annotations

import functools
import getpass
import os
import subprocess
import sys

from mltrail.entities import SourceType

USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"
PARENT_RUN_ID = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
NOTE = "mlflow.note.content"


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database (containers)
        return os.environ.get("USER", "unknown")


@functools.cache
def system_tags() -> dict[str, str]:
    source = sys.argv[0] if sys.argv and sys.argv[0] else "<console>"
    source_path = os.path.abspath(source) if os.path.exists(source) else source
    tags = {
        USER: current_user(),
        SOURCE_NAME: source_path,
        SOURCE_TYPE: SourceType.LOCAL,
    }
    if os.environ.get("MLFLOW_PROJECT_ENTRY_POINT") or os.environ.get("MLTRAIL_PROJECT"):
        tags[SOURCE_TYPE] = SourceType.PROJECT
    tags.update(_git_tags(os.path.dirname(source_path) if os.path.exists(source) else os.getcwd()))
    return tags


def _git_tags(folder: str) -> dict[str, str]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=3,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    tags = {GIT_COMMIT: commit}
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        tags[GIT_BRANCH] = branch
    remote = git("config", "--get", "remote.origin.url")
    if remote:
        tags[GIT_REPO_URL] = _strip_credentials(remote)
    return tags


def _strip_credentials(url: str) -> str:
    # A remote like https://user:token@host/repo must never end up in a tag.
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
