"""``mltrail run``: run an MLproject folder or git repository as a tracked run."""

from __future__ import annotations

import gc
import signal
import sys
from typing import Any

import click

from mltrail.cli.options import tracking_uri_option


@click.command("run")
@click.argument("uri", default=".", metavar="URI")
@click.option("--entry-point", "-e", default="main", show_default=True, metavar="NAME",
              help="Entry point of the MLproject, or a .py/.sh file of the project.")
@click.option("--version", "-v", "version", metavar="VERSION",
              help="Git branch, tag or commit to run (git projects only).")
@click.option("--param-list", "-P", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter; repeat for more. Undeclared ones are passed as --NAME VALUE.")
@click.option("--docker-args", "-A", "docker_args", multiple=True, metavar="NAME[=VALUE]",
              help="An argument for `docker run` (docker_env projects): -A gpus=all.")
@click.option("--experiment-name", metavar="NAME",
              help="Experiment to run in (created if missing).")
@click.option("--experiment-id", metavar="ID", help="Experiment to run in (must exist).")
@click.option("--run-name", metavar="NAME", help="Name of the new run.")
@click.option("--run-id", metavar="ID", help="Run to continue instead of creating one.")
@click.option("--env-manager", type=click.Choice(["local", "uv", "virtualenv", "conda"]),
              help="How to build the environment. Default: uv for python_env, conda for "
              "conda_env, docker for docker_env, local for none.")
@click.option("--no-conda", is_flag=True, help="Old spelling of --env-manager local.")
@click.option("--backend", "-b", default="local", show_default=True,
              type=click.Choice(["local", "kubernetes"]), help="Where to run.")
@click.option("--backend-config", "-c", metavar="FILE|JSON",
              help="Backend settings: a JSON file or an inline JSON object.")
@click.option("--storage-dir", metavar="DIR",
              help="Where path parameters given as remote URIs (s3://, runs:/, https://) "
              "are downloaded. Default: a new temporary folder.")
@click.option("--trust", is_flag=True,
              help="Run a project fetched from the network (https://, ssh://, git@...) "
              "without asking.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the command's own output.")
@tracking_uri_option
def run_command(
    uri: str,
    entry_point: str,
    version: str | None,
    params: tuple[str, ...],
    docker_args: tuple[str, ...],
    experiment_name: str | None,
    experiment_id: str | None,
    run_name: str | None,
    run_id: str | None,
    env_manager: str | None,
    no_conda: bool,
    backend: str,
    backend_config: str | None,
    storage_dir: str | None,
    trust: bool,
    quiet: bool,
    tracking_uri: str | None,
) -> None:
    """Run URI (a folder, or a git repository: file://, https://, git@..., with #subdir)
    as a tracked run. Exits 1 when the run fails, 130 when interrupted.

    \b
      mltrail run . -P max_epochs=5 -e main --experiment-name mnist
      mltrail run https://github.com/org/repo#examples/train -v v1.2 --trust
    """
    from mltrail.projects import run
    from mltrail.projects.errors import ExecutionException
    from mltrail.projects.params import parse_param_list

    # What is loaded so far (the CLI, the runner and their modules) lives until the process
    # ends: the garbage collector need not walk it again, during the run or at exit, where a
    # final collection of it took longer than the rest of shutting down.
    gc.freeze()

    if experiment_name and experiment_id:
        raise click.UsageError("Give --experiment-name or --experiment-id, not both.")
    if no_conda and env_manager not in (None, "local"):
        raise click.UsageError("--no-conda means --env-manager local; give one of them.")
    parameters = parse_param_list(params)
    docker = {}
    for item in docker_args:
        name, _, value = item.partition("=")
        docker[name] = value if value else None
    # A `kill` (CI cancelling a job) ends the run KILLED like Ctrl-C, instead of leaving it
    # RUNNING with its command orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        submitted = run(
            uri,
            entry_point=entry_point,
            version=version,
            parameters=parameters,
            docker_args=docker,
            experiment_name=experiment_name,
            experiment_id=experiment_id,
            backend=backend,
            backend_config=backend_config,
            storage_dir=storage_dir,
            synchronous=True,
            run_id=run_id,
            run_name=run_name,
            env_manager="local" if no_conda else env_manager,
            trust=trust,
            tracking_uri=tracking_uri,
            quiet=quiet,
        )
    except ExecutionException as exc:
        raise click.ClickException(exc.message) from None
    except KeyboardInterrupt:
        click.echo("mltrail: interrupted; the run is marked KILLED.", err=True)
        sys.exit(130)
    if not quiet:
        click.echo(f"Run {submitted.run_id} finished.", err=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
