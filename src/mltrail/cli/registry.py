"""``mltrail registry ...``: register a model from a run, list and describe registered models
and their versions, and set or delete an alias."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mltrail.cli import output
from mltrail.cli.clients import client_for
from mltrail.cli.options import common_options, page_token_option
from mltrail.entities.tracking import collect_pages

if TYPE_CHECKING:
    from mltrail.entities import ModelVersion, RegisteredModel

name_option = click.option(
    "--name", "-n", required=True, metavar="NAME", help="Name of the registered model."
)
version_option = click.option(
    "--version", "-v", "version", required=True, metavar="N", help="Version number."
)


@click.group("registry")
def registry() -> None:
    """Register models, list them and their versions, and move aliases."""


def version_dict(v: ModelVersion) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": str(v.version),
        "current_stage": v.current_stage,
        "status": v.status,
        "aliases": list(v.aliases),
        "source": v.source,
        "run_id": v.run_id,
        "model_id": v.model_id,
        "description": v.description,
        "tags": dict(v.tags),
        "creation_timestamp": v.creation_timestamp,
        "last_updated_timestamp": v.last_updated_timestamp,
    }


def model_dict(m: RegisteredModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        "tags": dict(m.tags),
        "aliases": {a: str(v) for a, v in m.aliases.items()},
        "latest_versions": [version_dict(v) for v in m.latest_versions],
        "creation_timestamp": m.creation_timestamp,
        "last_updated_timestamp": m.last_updated_timestamp,
    }


def _parse_tags(items: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE.", param_hint="--tag")
        tags[key] = value
    return tags


@registry.command("register")
@click.option(
    "--model-uri",
    "-m",
    metavar="URI",
    help="What to register: runs:/<run_id>/<path>, models:/<model_id>, or models:/<name>/<n>.",
)
@click.option("--run-id", "-r", metavar="ID", help="Register <path> of this run instead.")
@click.option("--path", default="model", show_default=True, help="With --run-id: the path.")
@name_option
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A version tag.")
@common_options
def register(
    model_uri: str | None,
    run_id: str | None,
    path: str,
    name: str,
    tags: tuple[str, ...],
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """Register a model as a new version of NAME (created if it does not exist)."""
    if (model_uri is None) == (run_id is None):
        raise click.UsageError("Give either --model-uri, or --run-id (with --path).")
    uri = model_uri or f"runs:/{run_id}/{path.strip('/')}"
    client_for(tracking_uri)
    from mltrail.tracking.fluent_registry import register_model

    version = register_model(uri, name, tags=_parse_tags(tags))
    if as_json:
        output.emit_json(version_dict(version))
    else:
        click.echo(f"Registered {uri} as version {version.version} of model '{name}'.")


@registry.command("list")
@click.option("--filter", "filter_string", metavar="FILTER", help="e.g. \"name LIKE 'clf%'\".")
@click.option("--order-by", multiple=True, metavar="TERM", help="e.g. 'name DESC'.")
@click.option(
    "--max-results", type=click.IntRange(1, 1000), default=100, show_default=True, metavar="N"
)
@page_token_option
@common_options
def list_models(
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    page_token: str | None,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """List registered models with their newest version and aliases."""
    page = client_for(tracking_uri).search_registered_models(
        filter_string, max_results, list(order_by) or None, page_token
    )
    if as_json:
        models = [model_dict(m) for m in page]
        output.emit_json({"registered_models": models, "next_page_token": page.token})
        return
    if not page:
        click.echo("No registered models found.")
        return
    output.print_table(
        ["Name", "Latest version", "Aliases", "Updated", "Description"],
        [
            (
                m.name,
                max((v.version for v in m.latest_versions), default=""),
                ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())),
                output.format_time(m.last_updated_timestamp),
                (m.description or "")[:60],
            )
            for m in page
        ],
    )
    if page.token:
        click.echo(f"More models follow; continue with --page-token {page.token}")


@registry.command("describe")
@name_option
@common_options
def describe(name: str, tracking_uri: str | None, as_json: bool) -> None:
    """Show a registered model and all its versions."""
    client = client_for(tracking_uri)
    model = client.get_registered_model(name)
    versions = _all_versions(client, name)
    if as_json:
        found = model_dict(model)
        found["versions"] = [version_dict(v) for v in versions]
        output.emit_json(found)
        return
    output.print_mapping(
        f"Registered model {model.name}",
        {
            "description": model.description or "",
            "created": output.format_time(model.creation_timestamp),
            "updated": output.format_time(model.last_updated_timestamp),
        },
        sort=False,
    )
    output.print_mapping("Tags", model.tags)
    _versions_table(versions)


@registry.command("versions")
@click.option("--name", "-n", metavar="NAME", help="Only versions of this model.")
@click.option("--filter", "filter_string", metavar="FILTER", help="e.g. \"run_id = '...'\".")
@common_options
def versions(
    name: str | None, filter_string: str | None, tracking_uri: str | None, as_json: bool
) -> None:
    """List model versions (of one model, or matching a filter)."""
    client = client_for(tracking_uri)
    clauses = [f"name = '{_quoted(name)}'"] if name else []
    if filter_string:
        clauses.append(filter_string)
    found = list(client.search_model_versions(" AND ".join(clauses) or None))
    if as_json:
        output.emit_json({"model_versions": [version_dict(v) for v in found]})
        return
    _versions_table(found)


@registry.command("describe-version")
@name_option
@version_option
@common_options
def describe_version(name: str, version: str, tracking_uri: str | None, as_json: bool) -> None:
    """Show one model version."""
    found = client_for(tracking_uri).get_model_version(name, version)
    if as_json:
        output.emit_json(version_dict(found))
        return
    shown = version_dict(found)
    tags = shown.pop("tags")
    shown["aliases"] = ", ".join(shown["aliases"])
    for key in ("creation_timestamp", "last_updated_timestamp"):
        shown[key] = output.format_time(shown[key])
    output.print_mapping(f"Model {name} version {found.version}", shown, sort=False)
    output.print_mapping("Tags", tags)


@registry.command("set-alias")
@name_option
@click.option("--alias", "-a", required=True, metavar="ALIAS", help="e.g. champion.")
@version_option
@common_options
def set_alias(name: str, alias: str, version: str, tracking_uri: str | None, as_json: bool) -> None:
    """Point ALIAS of a model at a version (moving it if it pointed elsewhere)."""
    client_for(tracking_uri).set_registered_model_alias(name, alias, version)
    if as_json:
        output.emit_json({"name": name, "alias": alias, "version": str(version)})
    else:
        click.echo(f"Alias '{alias}' of model '{name}' now points at version {version}.")


@registry.command("delete-alias")
@name_option
@click.option("--alias", "-a", required=True, metavar="ALIAS")
@common_options
def delete_alias(name: str, alias: str, tracking_uri: str | None, as_json: bool) -> None:
    """Remove an alias of a model."""
    client_for(tracking_uri).delete_registered_model_alias(name, alias)
    if as_json:
        output.emit_json({"name": name, "alias": alias, "deleted": True})
    else:
        click.echo(f"Deleted alias '{alias}' of model '{name}'.")


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _all_versions(client: Any, name: str) -> list[ModelVersion]:
    where = f"name = '{_quoted(name)}'"
    return collect_pages(
        lambda size, token: client.search_model_versions(
            where, size, ["version_number DESC"], token
        ),
        10000,
    )


def _versions_table(found: list[ModelVersion]) -> None:
    if not found:
        click.echo("No model versions found.")
        return
    output.print_table(
        ["Name", "Version", "Aliases", "Stage", "Status", "Run ID", "Created"],
        [
            (
                v.name,
                v.version,
                ", ".join(v.aliases),
                v.current_stage,
                v.status,
                v.run_id or "",
                output.format_time(v.creation_timestamp),
            )
            for v in found
        ],
    )
