"""``mltrail experiments ...``: create, find, rename, delete and restore experiments."""

from __future__ import annotations

from typing import Any

import click

from mltrail.cli import output
from mltrail.cli.clients import client_for
from mltrail.cli.options import (
    common_options,
    experiment_id_option,
    max_results_option,
    page_token_option,
    tracking_uri_option,
    view_option,
)
from mltrail.entities import Run
from mltrail.entities.tracking import collect_pages


@click.group("experiments")
def experiments() -> None:
    """Create, list, rename, delete and restore experiments."""


@experiments.command("create")
@click.option("--experiment-name", "-n", required=True, metavar="NAME", help="Name to give it.")
@click.option(
    "--artifact-location",
    "-l",
    metavar="URI",
    help="Where its runs store artifacts (a folder or s3://...). Default: beside the store.",
)
@common_options
def create(
    experiment_name: str, artifact_location: str | None, tracking_uri: str | None, as_json: bool
) -> None:
    """Create an experiment and print its ID."""
    client = client_for(tracking_uri)
    experiment_id = client.create_experiment(experiment_name, artifact_location)
    if as_json:
        output.emit_json({"experiment_id": experiment_id, "name": experiment_name})
    else:
        click.echo(f"Created experiment '{experiment_name}' with ID {experiment_id}.")


def _search(
    view_type: int,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    page_token: str | None,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    client = client_for(tracking_uri, must_exist=True)
    page = client.search_experiments(
        view_type, max_results, filter_string, list(order_by) or None, page_token
    )
    if as_json:
        output.emit_json(
            {
                "experiments": [output.experiment_dict(e) for e in page],
                "next_page_token": page.token,
            }
        )
        return
    if not page:
        click.echo("No experiments found.")
        return
    output.print_table(
        ["ID", "Name", "Stage", "Created", "Artifact location"],
        [
            (
                e.experiment_id,
                e.name,
                e.lifecycle_stage,
                output.format_time(e.creation_time),
                e.artifact_location,
            )
            for e in page
        ],
    )
    if page.token:
        click.echo(f"More experiments follow; continue with --page-token {page.token}")


def _search_command(name: str, doc: str) -> click.Command:
    @view_option
    @click.option(
        "--filter",
        "filter_string",
        metavar="FILTER",
        help="Search filter, e.g. \"name LIKE 'bert%'\" or \"tags.team = 'nlp'\".",
    )
    @click.option(
        "--order-by",
        multiple=True,
        metavar="TERM",
        help="Sort term such as 'name ASC' or 'creation_time DESC'; repeat for more.",
    )
    @max_results_option
    @page_token_option
    @common_options
    def command(**kwargs: Any) -> None:
        _search(**kwargs)

    command.__doc__ = doc
    return experiments.command(name)(command)


search = _search_command("search", "Search experiments by name, tags and lifecycle stage.")
list_ = _search_command("list", "List experiments (the same as `search`).")


@experiments.command("get")
@experiment_id_option
@common_options
def get(experiment_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Show one experiment: name, stage, artifact location and tags."""
    exp = client_for(tracking_uri, must_exist=True).get_experiment(experiment_id)
    if as_json:
        output.emit_json(output.experiment_dict(exp))
        return
    output.print_mapping(
        f"Experiment {exp.experiment_id}",
        {
            "name": exp.name,
            "lifecycle_stage": exp.lifecycle_stage,
            "artifact_location": exp.artifact_location,
            "creation_time": output.format_time(exp.creation_time),
            "last_update_time": output.format_time(exp.last_update_time),
        },
        sort=False,
    )
    output.print_mapping("Tags", exp.tags)


@experiments.command("rename")
@experiment_id_option
@click.option("--new-name", required=True, metavar="NAME", help="The new name.")
@common_options
def rename(experiment_id: str, new_name: str, tracking_uri: str | None, as_json: bool) -> None:
    """Give an active experiment a new name."""
    client_for(tracking_uri, must_exist=True).rename_experiment(experiment_id, new_name)
    _report(
        as_json,
        experiment_id,
        f"Renamed experiment {experiment_id} to '{new_name}'.",
        name=new_name,
    )


@experiments.command("delete")
@experiment_id_option
@common_options
def delete(experiment_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Mark an experiment and its runs deleted (undo with `restore`)."""
    client_for(tracking_uri, must_exist=True).delete_experiment(experiment_id)
    _report(
        as_json, experiment_id, f"Deleted experiment {experiment_id}.", lifecycle_stage="deleted"
    )


@experiments.command("restore")
@experiment_id_option
@common_options
def restore(experiment_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Bring back a deleted experiment and its runs."""
    client_for(tracking_uri, must_exist=True).restore_experiment(experiment_id)
    _report(
        as_json, experiment_id, f"Restored experiment {experiment_id}.", lifecycle_stage="active"
    )


def _report(as_json: bool, experiment_id: str, sentence: str, **fields: str) -> None:
    if as_json:
        output.emit_json({"experiment_id": str(experiment_id), **fields})
    else:
        click.echo(sentence)


@experiments.command("csv")
@experiment_id_option
@click.option(
    "--filename",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the CSV here instead of to standard output.",
)
@tracking_uri_option
def export_csv(experiment_id: str, filename: str | None, tracking_uri: str | None) -> None:
    """Export every run of an experiment, with its params, metrics and tags, as CSV (the
    columns of `mltrail.search_runs`)."""
    from mltrail.tracking.frames import runs_to_dataframe

    client = client_for(tracking_uri, must_exist=True)
    client.get_experiment(experiment_id)  # an unknown experiment is an error, not an empty file
    found: list[Run] = collect_pages(  # the active runs (view type 1)
        lambda size, token: client.search_runs([experiment_id], "", 1, size, None, token), 50000
    )
    frame = runs_to_dataframe(found)
    if filename is None:
        click.echo(frame.to_csv(index=False), nl=False)
        return
    frame.to_csv(filename, index=False)
    click.echo(f"Wrote {len(found)} runs of experiment {experiment_id} to {filename}.", err=True)
