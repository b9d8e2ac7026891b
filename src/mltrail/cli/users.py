"""``mltrail users``: the users of a server started with ``--auth`` (on its database)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from mltrail.cli import output
from mltrail.cli.options import json_option

backend_option = click.option(
    "--backend-store-uri",
    envvar=["MLTRAIL_BACKEND_STORE_URI", "MLFLOW_BACKEND_STORE_URI"],
    default="sqlite:///./mltrail.db",
    show_default=True,
    metavar="URI",
    help="The server's tracking database (users live beside the runs).",
)


def _auth(uri: str) -> Any:
    from mltrail.server.auth.store import AuthStore
    from mltrail.store.sql.engine import get_engine
    from mltrail.store.sql.migrate import upgrade
    from mltrail.tracking.uri import normalize_tracking_uri

    engine = get_engine(normalize_tracking_uri(uri))
    upgrade(engine)
    return AuthStore(engine)


def _password(given: str | None) -> str:
    if given:
        return given
    from_env = os.environ.get("MLTRAIL_AUTH_ADMIN_PASSWORD")
    if from_env:
        return from_env
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("users")
def users() -> None:
    """Manage the users of a server run with --auth: administrators, passwords, tokens."""


@users.command("create-admin")
@click.argument("username")
@click.option("--password", help="Asked for when not given (never shown).")
@backend_option
def create_admin(username: str, password: str | None, backend_store_uri: str) -> None:
    """Create an administrator (the first one before starting a server with --auth)."""
    user = _auth(backend_store_uri).create_user(username, _password(password), is_admin=True)
    click.echo(f"Created administrator {user.username}.")


@users.command("create")
@click.argument("username")
@click.option("--password", help="Asked for when not given (never shown).")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@backend_option
def create(username: str, password: str | None, admin: bool, backend_store_uri: str) -> None:
    """Create a user (permissions come from grants and the server's default)."""
    user = _auth(backend_store_uri).create_user(username, _password(password), is_admin=admin)
    click.echo(f"Created user {user.username}.")


@users.command("create-token")
@click.argument("username")
@click.option("--name", default="token", show_default=True, help="What the token is for.")
@backend_option
def create_token(username: str, name: str, backend_store_uri: str) -> None:
    """Print a new personal API token for USERNAME (shown once; use as MLFLOW_TRACKING_TOKEN)."""
    click.echo(_auth(backend_store_uri).create_token(username, name))


@users.command("revoke-tokens")
@click.argument("username")
@backend_option
def revoke_tokens(username: str, backend_store_uri: str) -> None:
    """Revoke every API token of USERNAME."""
    count = _auth(backend_store_uri).revoke_tokens(username)
    click.echo(f"Revoked {count} tokens of {username}.")


@users.command("set-password")
@click.argument("username")
@click.option("--password", help="Asked for when not given (never shown).")
@backend_option
def set_password(username: str, password: str | None, backend_store_uri: str) -> None:
    """Set USERNAME's password."""
    _auth(backend_store_uri).update_password(username, _password(password))
    click.echo(f"Password of {username} changed.")


@users.command("delete")
@click.argument("username")
@backend_option
def delete(username: str, backend_store_uri: str) -> None:
    """Delete a user with their tokens and grants."""
    _auth(backend_store_uri).delete_user(username)
    click.echo(f"Deleted user {username}.")


def _grant_command(name: str, who: str, give: Callable[[Any, str, str, str, str], None]) -> Any:
    """``grant`` and ``grant-group``: WHO gets PERMISSION on the experiment or model named."""

    @users.command(
        name, help=f"Give {who} a PERMISSION (READ, EDIT, MANAGE, NO_PERMISSIONS) on one resource."
    )
    @click.argument(who)
    @click.argument("permission")
    @click.option("--experiment-id", help="The experiment the grant is on.")
    @click.option("--registered-model", help="The registered model the grant is on.")
    @backend_option
    def command(
        permission: str,
        experiment_id: str | None,
        registered_model: str | None,
        backend_store_uri: str,
        **named: str,
    ) -> None:
        kind, resource = _resource(experiment_id, registered_model)
        holder = named[who.lower()]
        give(_auth(backend_store_uri), holder, kind, resource, permission)
        click.echo(f"{holder} has {permission.upper()} on {kind.replace('_', ' ')} {resource}.")

    return command


def _resource(experiment_id: str | None, registered_model: str | None) -> tuple[str, str]:
    if bool(experiment_id) == bool(registered_model):
        raise click.UsageError("Give exactly one of --experiment-id and --registered-model.")
    if experiment_id:
        return "experiment", experiment_id
    return "registered_model", str(registered_model)


grant = _grant_command(
    "grant",
    "USERNAME",
    lambda auth, user, kind, resource, permission: auth.set_grant(kind, resource, user, permission),
)


@users.command("create-group")
@click.argument("group")
@backend_option
def create_group(group: str, backend_store_uri: str) -> None:
    """Create a group: its members get its grants (a user's own grant wins)."""
    _auth(backend_store_uri).create_group(group)
    click.echo(f"Created group {group}.")


@users.command("delete-group")
@click.argument("group")
@backend_option
def delete_group(group: str, backend_store_uri: str) -> None:
    """Delete a group with its grants (its members stay)."""
    _auth(backend_store_uri).delete_group(group)
    click.echo(f"Deleted group {group}.")


@users.command("add-to-group")
@click.argument("group")
@click.argument("username")
@backend_option
def add_to_group(group: str, username: str, backend_store_uri: str) -> None:
    """Make USERNAME a member of GROUP."""
    _auth(backend_store_uri).add_member(group, username)
    click.echo(f"{username} is in {group}.")


@users.command("remove-from-group")
@click.argument("group")
@click.argument("username")
@backend_option
def remove_from_group(group: str, username: str, backend_store_uri: str) -> None:
    """Take USERNAME out of GROUP."""
    _auth(backend_store_uri).remove_member(group, username)
    click.echo(f"{username} is no longer in {group}.")


grant_group = _grant_command(
    "grant-group",
    "GROUP",
    lambda auth, group, kind, resource, permission: auth.grant_group(
        group, kind, resource, permission
    ),
)


@users.command("groups")
@backend_option
@json_option
def list_groups(backend_store_uri: str, as_json: bool) -> None:
    """List groups and their members."""
    found = _auth(backend_store_uri).list_groups()
    if as_json:
        output.emit_json(found)
        return
    for name, members in found.items():
        click.echo(f"{name}: {', '.join(members) or '(no members)'}")


@users.command("list")
@backend_option
@json_option
def list_users(backend_store_uri: str, as_json: bool) -> None:
    """List users."""
    found = _auth(backend_store_uri).list_users()
    if as_json:
        output.emit_json([{"username": u.username, "is_admin": u.is_admin} for u in found])
        return
    for user in found:
        click.echo(f"{user.username}{'  (admin)' if user.is_admin else ''}")


@users.command("audit")
@click.option("--limit", default=50, show_default=True, help="How many entries, newest first.")
@backend_option
@json_option
def audit(limit: int, backend_store_uri: str, as_json: bool) -> None:
    """Show the audit log of writes: who, what, when, from where."""
    entries = _auth(backend_store_uri).audit_entries(limit)
    if as_json:
        output.emit_json(entries)
        return
    import datetime

    for e in entries:
        when = datetime.datetime.fromtimestamp(e["time_ms"] / 1000, datetime.UTC)
        click.echo(
            f"{when:%Y-%m-%d %H:%M:%S} {e['username'] or '-'} {e['client'] or '-'} "
            f"{e['method']} {e['path']} {e['status']}"
        )
