"""docs/cli.md is generated from ``--help`` and must stay identical to it (R20)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mltrail.cli import LAZY_COMMANDS, main
from mltrail.cli.reference import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
REGENERATE = "python -m mltrail.cli.reference docs/cli.md"


def _all_command_paths() -> list[str]:
    return re.findall(r"^#+ `(mltrail[^`]*)`$", render(), flags=re.MULTILINE)


def test_docs_match_generated_help():
    assert DOCS.read_text(encoding="utf-8") == render(), f"docs/cli.md is stale; run {REGENERATE}"


def test_every_command_is_documented():
    documented = set(_all_command_paths())
    ctx = click.Context(main)
    for group in ("experiments", "runs", "artifacts", "db", "registry"):
        sub = main.get_command(ctx, group)
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


def test_listing_matches_each_commands_own_help():
    """``mltrail --help`` lists the commands without importing them; the line it shows for
    each must be what the command itself says."""
    ctx = click.Context(main)
    for name, (_module, _attr, listed) in LAZY_COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None, name
        assert command.get_short_help_str(limit=10_000) == listed, name


def test_top_level_help_imports_no_command_module():
    code = (
        "import sys\n"
        "from mltrail.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='mltrail')\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('mltrail.cli.'))\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
    assert "  run " in done.stdout and "  experiments " in done.stdout
