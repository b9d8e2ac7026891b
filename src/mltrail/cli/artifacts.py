"""``mltrail artifacts ...``: list, download and upload a run's files."""

from __future__ import annotations

import click

from mltrail.cli import output
from mltrail.cli.clients import client_for
from mltrail.cli.options import common_options, run_id_option


@click.group("artifacts")
def artifacts() -> None:
    """List, download and log the files stored with runs."""


@artifacts.command("list")
@run_id_option
@click.option(
    "--artifact-path",
    "-a",
    metavar="PATH",
    help="Folder inside the run's artifacts to list. Default: the top.",
)
@common_options
def list_artifacts(
    run_id: str, artifact_path: str | None, tracking_uri: str | None, as_json: bool
) -> None:
    """List the files and folders directly under a run's artifact path."""
    files = client_for(tracking_uri, must_exist=True).list_artifacts(run_id, artifact_path)
    if as_json:
        output.emit_json({"files": [output.file_dict(f) for f in files]})
        return
    if not files:
        click.echo("No artifacts found.")
        return
    output.print_table(
        ["Path", "Type", "Size"],
        [(f.path, "dir" if f.is_dir else "file", output.format_size(f.file_size)) for f in files],
    )


@artifacts.command("download")
@click.option("--run-id", "-r", metavar="ID", help="Run whose artifacts to download.")
@click.option(
    "--artifact-path",
    "-a",
    metavar="PATH",
    help="File or folder inside the run's artifacts. Default: all of them.",
)
@click.option(
    "--artifact-uri",
    "-u",
    metavar="URI",
    help="Download this URI instead (runs:/ID/path, s3://..., a folder); not with --run-id.",
)
@click.option(
    "--dst-path",
    "-d",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Local folder to download into (created if missing). Default: a new temporary folder.",
)
@common_options
def download(
    run_id: str | None,
    artifact_path: str | None,
    artifact_uri: str | None,
    dst_path: str | None,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """Download artifacts and print the local path they were written to."""
    from mltrail.artifacts import download_artifacts

    if (run_id is None) == (artifact_uri is None):
        raise click.UsageError("Give either --run-id or --artifact-uri (not both).")
    if artifact_uri is not None and artifact_path is not None:
        raise click.UsageError("--artifact-path goes with --run-id; put the path in the URI.")
    # settles the tracking URI (and checks it) for runs:/ URIs
    client_for(tracking_uri, must_exist=True)
    local = download_artifacts(
        artifact_uri=artifact_uri,
        run_id=run_id,
        artifact_path=artifact_path,
        dst_path=dst_path,
    )
    if as_json:
        output.emit_json({"local_path": local})
    else:
        click.echo(local)


@artifacts.command("log-artifact")
@click.option(
    "--local-file",
    "-l",
    required=True,
    metavar="PATH",
    type=click.Path(exists=True),
    help="File (or folder) to store.",
)
@run_id_option
@click.option(
    "--artifact-path",
    "-a",
    metavar="PATH",
    help="Folder inside the run's artifacts to put it in. Default: the top.",
)
@common_options
def log_artifact(
    local_file: str,
    run_id: str,
    artifact_path: str | None,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """Store a local file (or folder) with a run."""
    import os

    client_for(tracking_uri).log_artifact(run_id, local_file, artifact_path)
    name = os.path.basename(os.path.normpath(local_file))
    stored = f"{artifact_path.strip('/')}/{name}" if artifact_path else name
    if as_json:
        output.emit_json({"run_id": run_id, "artifact_path": stored})
    else:
        click.echo(f"Logged {local_file} to run {run_id} as '{stored}'.")
