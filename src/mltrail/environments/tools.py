"""Where the external programs environments are built with live: uv, conda, docker."""

from __future__ import annotations

import os
import shutil
import sys


def uv_executable() -> str | None:
    """``MLTRAIL_UV``, else the ``uv`` beside this interpreter (``pip install uv`` puts it
    there), else the one on PATH."""
    configured = os.environ.get("MLTRAIL_UV")
    if configured:
        return configured
    beside = os.path.join(os.path.dirname(sys.executable), "uv")
    if os.access(beside, os.X_OK):
        return beside
    try:
        from uv import find_uv_bin  # the PyPI package ships the binary

        return str(find_uv_bin())
    except Exception:  # noqa: BLE001 - not installed, or a broken install: fall back to PATH
        return shutil.which("uv")


def conda_executable() -> str | None:
    """MLflow's ``MLFLOW_CONDA_HOME`` first, then ``CONDA_EXE``, then conda/mamba on PATH."""
    home = os.environ.get("MLFLOW_CONDA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "conda")
        return candidate if os.access(candidate, os.X_OK) else None
    exe = os.environ.get("CONDA_EXE")
    if exe and os.access(exe, os.X_OK):
        return exe
    return shutil.which("conda") or shutil.which("mamba") or shutil.which("micromamba")
