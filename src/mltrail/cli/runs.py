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
from mltrail.entities import Run


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
    """List the runs of experiments, newest first unless --order-by says otherwise.

    The table shows the metrics and params that --filter and --order-by name (else the first
    few of the page), so what sorted the runs is on screen."""
    client = client_for(tracking_uri, must_exist=True)
    for experiment_id in experiment_ids:
        client.get_experiment(experiment_id)  # an unknown experiment is an error, not "no runs"
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
    metric_keys, param_keys = shown_keys(list(page), filter_string, order_by)
    output.print_table(
        ["Run ID", "Name", "Status", "Started", "Duration"]
        + [f"metrics.{k}" for k in metric_keys]
        + [f"params.{k}" for k in param_keys],
        [
            (
                r.info.run_id,
                r.info.run_name,
                r.info.status,
                output.format_time(r.info.start_time),
                output.format_duration(r.info.start_time, r.info.end_time),
                *(output.format_number(r.data.metrics.get(k)) for k in metric_keys),
                *(r.data.params.get(k, "") for k in param_keys),
            )
            for r in page
        ],
    )
    if page.token:
        click.echo(f"More runs follow; continue with --page-token {page.token}")


SHOWN_KEYS = 3  # metric and param columns when --filter and --order-by name none


def shown_keys(
    found: list[Run], filter_string: str | None, order_by: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """The metric and param keys to show as columns: those the filter and order name, in
    that order; else the first few keys the runs have."""
    from mltrail import search

    named: dict[str, list[str]] = {"metric": [], "param": []}
    nodes = [t.key for t in search.parse_run_order_by(list(order_by))]
    stack = [search.parse_run_filter(filter_string)] if filter_string else []
    while stack:
        node = stack.pop()
        if isinstance(node, search.Comparison):
            nodes.append(node.left)
        elif isinstance(node, search.Not):
            stack.append(node.item)
        elif node is not None:
            stack += node.items
    for ident in nodes:
        keys = named.get(ident.kind)
        if keys is not None and ident.key not in keys:
            keys.append(ident.key)
    if not named["metric"] and not named["param"]:
        named["metric"] = sorted({k for r in found for k in r.data.metrics})[:SHOWN_KEYS]
        named["param"] = sorted({k for r in found for k in r.data.params})[:SHOWN_KEYS]
    return named["metric"], named["param"]


@runs.command("describe")
@run_id_option
@common_options
def describe(run_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Show a run: its info, params, latest metrics and tags."""
    run = client_for(tracking_uri, must_exist=True).get_run(run_id)
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
    client_for(tracking_uri, must_exist=True).delete_run(run_id)
    _report(as_json, run_id, "deleted")


@runs.command("restore")
@run_id_option
@common_options
def restore(run_id: str, tracking_uri: str | None, as_json: bool) -> None:
    """Bring back a deleted run."""
    client_for(tracking_uri, must_exist=True).restore_run(run_id)
    _report(as_json, run_id, "active")


def _report(as_json: bool, run_id: str, stage: str) -> None:
    if as_json:
        output.emit_json({"run_id": run_id, "lifecycle_stage": stage})
    else:
        verb = "Deleted" if stage == "deleted" else "Restored"
        click.echo(f"{verb} run {run_id}.")
