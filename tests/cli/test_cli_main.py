"""The command as a whole: entry points, help, version, and how it fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_helpers import assert_one_sentence_error

from mltrail.version import __version__


def test_version(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.stdout.strip() == f"mltrail, version {__version__}"


def test_help_lists_every_noun(cli):
    result = cli("--help")
    assert result.code == 0
    for noun in ("experiments", "runs", "artifacts", "db"):
        assert f"  {noun}" in result.stdout


def test_help_does_not_import_the_store(cli):
    probe = (
        "import sys\n"
        "from mltrail.cli import main\n"
        "try:\n"
        "    main(['--help'], standalone_mode=False)\n"
        "finally:\n"
        "    mods = ('sqlalchemy', 'rich', 'alembic', 'fastapi')\n"
        "    heavy = [m for m in mods if m in sys.modules]\n"
        "    print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_console_script_and_module_agree(cli):
    script = Path(sys.executable).parent / "mltrail"
    if not script.exists():  # not installed as a console script in this environment
        return
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout == cli("--version").stdout


def test_unknown_command_is_a_usage_error(cli):
    result = cli("experimnets", "list")
    assert_one_sentence_error(result, code=2, contains="No such command")


def test_missing_required_option_is_a_usage_error(cli):
    assert_one_sentence_error(cli("runs", "describe"), code=2, contains="--run-id")


def test_malformed_tracking_uri(cli):
    result = cli("experiments", "list", uri="foo:bar")
    assert_one_sentence_error(result, contains="Malformed tracking URI")


def test_unsupported_tracking_uri_scheme(cli):
    result = cli("experiments", "list", uri="ftp://example.com/x")
    assert_one_sentence_error(result, contains="Unsupported tracking URI scheme")


def test_tracking_uri_from_environment(cli, seeded):
    result = cli("experiments", "list", "--json", env={"MLFLOW_TRACKING_URI": seeded.uri})
    assert result.code == 0
    assert "vision" in [e["name"] for e in result.json()["experiments"]]


def test_embedded_default_store_in_working_folder(cli, tmp_path):
    result = cli("experiments", "create", "-n", "local")
    assert result.code == 0, result.stderr
    assert (tmp_path / "mltrail.db").exists()
    listed = cli("experiments", "list", "--json").json()
    assert sorted(e["name"] for e in listed["experiments"]) == ["Default", "local"]


def test_unreachable_database_is_one_sentence(cli):
    result = cli("experiments", "list", uri="postgresql://nobody@127.0.0.1:1/none")
    assert_one_sentence_error(result, contains="could not be used")
