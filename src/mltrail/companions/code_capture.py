"""Code capture: what code produced a run, saved with it. Git commit, branch and remote are
tags on every run already (``mlflow.source.git.*``); this adds, as artifacts under ``code/``:
the uncommitted diff (``code/uncommitted.diff``, and the tag ``mltrail.source.git.dirty``), the
installed packages (``code/requirements.txt``, ``name==version`` lines) and the entry script.

Turn it on with ``MLTRAIL_CAPTURE_CODE=true`` or ``mltrail.companions.code_capture.enable()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

DIRTY_TAG = "mltrail.source.git.dirty"
MAX_DIFF_BYTES = 5 * 1024 * 1024
MAX_SCRIPT_BYTES = 2 * 1024 * 1024

_enabled: bool | None = None


def enable(value: bool = True) -> None:
    global _enabled
    _enabled = value


def enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("MLTRAIL_CAPTURE_CODE", "").strip().lower() in ("1", "true", "yes", "on")


def entry_script() -> Path | None:
    script = sys.argv[0] if sys.argv else ""
    path = Path(script)
    return path.resolve() if script and path.is_file() and path.suffix == ".py" else None


def uncommitted_diff(folder: Path) -> str | None:
    """``git diff HEAD`` in ``folder``'s repository (None outside a repository)."""
    try:
        done = subprocess.run(
            ["git", "diff", "HEAD", "--no-color", "--no-ext-diff"],
            cwd=folder,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout[:MAX_DIFF_BYTES].decode("utf-8", errors="replace")


def installed_packages() -> str:
    lines = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            lines.add(f"{name}=={dist.version}")
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def capture(run_id: str, client: Any) -> None:
    script = entry_script()
    folder = script.parent if script else Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "requirements.txt").write_text(installed_packages(), encoding="utf-8")
        diff = uncommitted_diff(folder)
        if diff is not None:
            client.set_tag(run_id, DIRTY_TAG, str(bool(diff.strip())).lower())
            if diff.strip():
                (out / "uncommitted.diff").write_text(diff, encoding="utf-8")
        if script is not None and script.stat().st_size <= MAX_SCRIPT_BYTES:
            (out / script.name).write_bytes(script.read_bytes())
        client.log_artifacts(run_id, tmp, "code")
