"""docs/cli.md is generated from ``--help`` and must stay identical to it (R20)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mltrail.cli import main
from mltrail.cli.reference import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
REGENERATE = "python -m mltrail.cli.reference docs/cli.md"


def _all_command_paths() -> list[str]:
    return re.findall(r"^#+ `(mltrail[^`]*)`$", render(), flags=re.MULTILINE)


def test_docs_match_generated_help():
    assert DOCS.read_text(encoding="utf-8") == render(), f"docs/cli.md is stale; run {REGENERATE}"


def test_every_command_is_documented():
    documented = set(_all_command_paths())
    for group in ("experiments", "runs", "artifacts", "db", "registry"):
        sub = main.commands[group]
        assert f"mltrail {group}" in documented
        for name in sub.commands:  # type: ignore[attr-defined]
            assert f"mltrail {group} {name}" in documented


@pytest.mark.parametrize("path", ["mltrail", "mltrail runs list", "mltrail db upgrade"])
def test_docs_show_what_help_prints(path):
    args = path.split()[1:] + ["--help"]
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "mltrail", *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0
    assert done.stdout.rstrip() in DOCS.read_text(encoding="utf-8")
