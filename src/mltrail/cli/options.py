"""Options shared by many commands, defined once so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

TRACKING_URI_ENV_VARS = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")

tracking_uri_option = click.option(
    "--tracking-uri",
    envvar=list(TRACKING_URI_ENV_VARS),
    show_envvar=True,
    metavar="URI",
    help=(
        "Where tracking data lives: sqlite:///path.db, postgresql://..., http(s)://host:port "
        "or a folder. Default: ./mltrail.db."
    ),
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print machine-readable JSON instead of a table.",
)

experiment_id_option = click.option(
    "--experiment-id",
    "-x",
    required=True,
    metavar="ID",
    help="ID of the experiment.",
)

run_id_option = click.option("--run-id", "-r", required=True, metavar="ID", help="ID of the run.")

max_results_option = click.option(
    "--max-results",
    type=click.IntRange(min=1),
    metavar="N",
    default=1000,
    show_default=True,
    help="Return at most this many results.",
)

page_token_option = click.option(
    "--page-token",
    metavar="TOKEN",
    help="Continue a listing from the next_page_token of a previous --json answer.",
)


class ViewTypeParam(click.ParamType[int]):
    """``active``, ``deleted`` or ``all`` (MLflow's ``active_only``/``deleted_only`` too)."""

    name = "view"
    _BY_NAME = {
        "active": 1,
        "active_only": 1,
        "deleted": 2,
        "deleted_only": 2,
        "all": 3,
    }

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[active|deleted|all]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        number = self._BY_NAME.get(str(value).strip().lower())
        if number is None:
            self.fail(f"{value!r} is not one of active, deleted, all.", param, ctx)
        return number


view_option = click.option(
    "--view",
    "view_type",
    type=ViewTypeParam(),
    default="active",
    show_default=True,
    help="Which lifecycle stage to show.",
)


def common_options(func: F) -> F:
    """``--tracking-uri`` and ``--json``, which every command that reads or writes takes."""
    return tracking_uri_option(json_option(func))
