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

from mltrail.version import __version__

# Every subcommand, loaded only when it is invoked (or its own help is asked for):
# name -> (module, attribute, the one-line help ``mltrail --help`` lists). The listing is kept
# here so that ``mltrail --help`` imports none of them; tests/cli checks that each line is the
# command's own short help.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "artifacts": ("mltrail.cli.artifacts", "artifacts",
                  "List, download and log the files stored with runs."),
    "db": ("mltrail.cli.db", "db", "Manage the tracking database's schema."),
    "doctor": ("mltrail.cli.doctor", "doctor",
               "Show versions, the tracking store and its schema, the artifact root, and "
               "whether the store (or server) can be reached."),
    "experiments": ("mltrail.cli.experiments", "experiments",
                    "Create, list, rename, delete and restore experiments."),
    "gc": ("mltrail.cli.gc", "gc_command",
           "Permanently remove deleted runs, logged models and experiments, with their "
           "artifacts."),
    "models": ("mltrail.cli.models", "models",
               "Serve, score and package models saved in the MLmodel format."),
    "registry": ("mltrail.cli.registry", "registry",
                 "Register models, list them and their versions, and move aliases."),
    "run": ("mltrail.cli.projects", "run_command",
            "Run URI (a folder, or a git repository: file://, https://, git@..., with "
            "#subdir) as a tracked run."),
    "runs": ("mltrail.cli.runs", "runs", "List, describe, delete and restore runs."),
    "server": ("mltrail.cli.server", "server_command",
               "Run the tracking server for a team: the MLflow-compatible REST API, the "
               "artifact proxy and the web UI."),
    "ui": ("mltrail.cli.server", "ui_command",
           "Open the web UI (and the API) on the local store, ./mltrail.db and "
           "./mltrail-artifacts unless told otherwise."),
    "users": ("mltrail.cli.users", "users",
              "Manage the users of a server run with --auth: administrators, passwords, "
              "tokens."),
}


class TrailGroup(click.Group):
    """A group that loads its commands lazily and reports errors in one sentence."""

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
        if not isinstance(command, click.Command):
            return None
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing must not import the commands' modules (some pull in the web stack): the
        # help comes from LAZY_COMMANDS, shortened as click shortens a loaded command's.
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in LAZY_COMMANDS:
                text = click.Command(name, help=LAZY_COMMANDS[name][2]).get_short_help_str(limit)
            else:
                text = self.commands[name].get_short_help_str(limit)
            rows.append((name, text))
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


__all__ = ["main"]
