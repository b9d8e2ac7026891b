"""The ``mltrail`` command: a click group with one module per noun.

Commands import the library inside their bodies, so ``mltrail --help`` stays fast. Errors are
turned into one sentence here, once, for every command: ``MltrailException`` (and database or
file-system failures) exit with code 1; click's usage errors exit with code 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from mltrail.cli.artifacts import artifacts
from mltrail.cli.db import db
from mltrail.cli.doctor import doctor
from mltrail.cli.experiments import experiments
from mltrail.cli.gc import gc_command
from mltrail.cli.registry import registry
from mltrail.cli.runs import runs
from mltrail.cli.users import users
from mltrail.version import __version__

# Commands written elsewhere, loaded only when invoked: name -> (module, attribute, short help).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("mltrail.cli.projects", "run_command", "Run an MLproject folder or git repository."),
    "server": ("mltrail.cli.server", "server_command", "Run the tracking server for a team."),
    "ui": ("mltrail.cli.server", "ui_command", "Open the web UI on the local store."),
    "models": ("mltrail.cli.models", "models", "Serve, score and package models."),
}


class TrailGroup(click.Group):
    """A group that loads optional commands lazily and reports errors in one sentence."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, (module, _, _) in LAZY_COMMANDS.items() if _module_exists(module)]
        return sorted({*self.commands, *lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = LAZY_COMMANDS.get(cmd_name)
        if spec is None or not _module_exists(spec[0]):
            return None
        command = getattr(importlib.import_module(spec[0]), spec[1], None)
        return command if isinstance(command, click.Command) else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing must not import the lazy modules (they pull in the web stack).
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=60)))
            else:
                rows.append((name, LAZY_COMMANDS[name][2]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except Exception as exc:
            if os.environ.get("MLTRAIL_DEBUG"):
                raise
            raise click.ClickException(describe_error(exc)) from None


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def describe_error(exc: Exception) -> str:
    """One sentence for the user, whatever went wrong."""
    from mltrail.exceptions import MltrailException

    if isinstance(exc, MltrailException):
        return exc.message
    if "sqlalchemy" in sys.modules:  # a database error is only possible once it is loaded
        from mltrail.store.sql.engine import translate_driver_error

        translated = translate_driver_error(exc)
        if translated is not None:
            return translated.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}."
    return (
        f"Unexpected error ({type(exc).__name__}: {exc}); "
        "rerun with MLTRAIL_DEBUG=1 to see the traceback and please report it."
    )


@click.group(cls=TrailGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mltrail")
def main() -> None:
    """mltrail: track experiments and runs, compare them, and store their artifacts.

    Every command reads and writes the store named by --tracking-uri, or by
    MLTRAIL_TRACKING_URI / MLFLOW_TRACKING_URI, or else ./mltrail.db.
    """
    # `requests` takes a fifth of a second to import: set the policy now if the HTTP layer
    # is loaded, else when a command loads it (most commands on a local store never do).
    from mltrail.store import http_policy

    http_policy.use_interactive_retries()


main.add_command(experiments)
main.add_command(runs)
main.add_command(artifacts)
main.add_command(db)
main.add_command(registry)
main.add_command(doctor)
main.add_command(gc_command)
main.add_command(users)

__all__ = ["main"]
