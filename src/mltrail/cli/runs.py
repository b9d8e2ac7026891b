"""``mltrail runs ...``: find runs, look inside one, delete and restore them."""

from __future__ import annotations

import click

from mltrail.cli import output
from mltrail.cli.clients import client_for
from mltrail.cli.options import (
    common_options,
    max_results_option,
    page_token_option,
    run_id_option,
    view_option,
)


@click.group("runs")
def runs() -> None:
    """List, describe, delete and restore runs."""


@runs.command("list")
@click.option(
    "--experiment-id",
    "-x",
    "experiment_ids",
    required=True,
    multiple=True,
    metavar="ID",
    help="Experiment whose runs to list; repeat for several.",
)
@click.option(
    "--filter",
    "filter_string",
    metavar="FILTER",
    help="Search filter, e.g. \"metrics.acc > 0.9 AND params.lr = '0.01'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="TERM",
    help="Sort term such as 'metrics.acc DESC' or 'start_time ASC'; repeat for more.",
)
@max_results_option
@view_option
@page_token_option
@common_options
def list_runs(
    experiment_ids: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    view_type: int,
    page_token: str | None,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """List the runs of experiments, newest first unless --order-by says otherwise."""
    client = client_for(tracking_uri)
    page = client.search_runs(
        list(experiment_ids),
        filter_string or "",
        view_type,
        max_results,
        list(order_by) or None,
        page_token,
    )
    if as_json:
        output.emit_json(
            {"runs": [output.run_dict(r) for r in page], "next_page_token": page.token}
        )
        return
    if not page:
        click.echo("No runs found.")
        return
    output.print_table(
        ["Run ID", "Name", "Status", "Started", "Duration"],
        [
            (
                r.info.run_id,
                r.info.run_name,
                r.info.status,
                output.format_time(r.info.start_time),
                output.format_duration(r.info.start_time, r.info.end_time),
            )
            for r in page
        ],
    )
    if page.token:
        click.echo(f"More runs follow; continue with --page-token {page.token}")


@runs.command("describe")
@run_id_option
@common_options
def describe(run_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Show a run: its info, params, latest metrics and tags."""
    run = client_for(tracking_uri).get_run(run_id)
    if as_json:
        output.emit_json(output.run_dict(run))
        return
    info = run.info
    output.print_mapping(
        f"Run {info.run_id}",
        {
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "status": info.status,
            "lifecycle_stage": info.lifecycle_stage,
            "user_id": info.user_id,
            "start_time": output.format_time(info.start_time),
            "end_time": output.format_time(info.end_time),
            "artifact_uri": info.artifact_uri,
        },
        sort=False,
    )
    output.print_mapping("Params", run.data.params)
    output.print_mapping("Metrics", run.data.metrics)
    output.print_mapping("Tags", run.data.tags)


@runs.command("delete")
@run_id_option
@common_options
def delete(run_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Mark a run deleted (undo with `restore`)."""
    client_for(tracking_uri).delete_run(run_id)
    _report(as_json, run_id, "deleted")


@runs.command("restore")
@run_id_option
@common_options
def restore(run_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Bring back a deleted run."""
    client_for(tracking_uri).restore_run(run_id)
    _report(as_json, run_id, "active")


def _report(as_json: bool, run_id: str, stage: str) -> None:
    if as_json:
        output.emit_json({"run_id": run_id, "lifecycle_stage": stage})
    else:
        verb = "Deleted" if stage == "deleted" else "Restored"
        click.echo(f"{verb} run {run_id}.")
