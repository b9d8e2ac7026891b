"""``mltrail db upgrade URI``: bring a tracking database to the newest schema."""

from __future__ import annotations

import click

from mltrail.cli import output
from mltrail.cli.options import json_option


@click.group("db")
def db() -> None:
    """Manage the tracking database's schema."""


@db.command("upgrade")
@click.argument("url", metavar="URI")
@json_option
def upgrade(url: str, as_json: bool) -> None:
    """Apply any pending schema migrations to the database at URI and print its revision.

    Back up the database first; the tracking store does this on first use too, so this is
    for upgrading ahead of time (e.g. before restarting a server).
    """
    from mltrail.store.sql import migrate
    from mltrail.store.sql.engine import get_engine

    engine = get_engine(url)
    before = migrate.current_revision(engine)
    applied = migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    shown = engine.url.render_as_string(hide_password=True)
    if as_json:
        output.emit_json(
            {"uri": shown, "revision": after, "previous_revision": before, "upgraded": applied}
        )
    elif applied:
        click.echo(f"Upgraded {shown} from revision {before or 'none'} to {after}.")
    else:
        click.echo(f"{shown} is already at the newest revision, {after}.")
