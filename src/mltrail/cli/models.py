"""``mltrail models``: serve a model over HTTP, score files in batch, package as a Docker image.

Model URIs and paths are parsed by the library, never handed to a shell.
"""

from __future__ import annotations

from typing import Any

import click

from mltrail.cli.options import tracking_uri_option

_NO_SHORT_HELP = {"help_option_names": ["--help"]}  # -h is --host here, as in MLflow


def _items(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _use_tracking_uri(uri: str | None) -> None:
    if uri:
        from mltrail.tracking import uri as tracking_uri

        tracking_uri.set_tracking_uri(uri)


model_uri_option = click.option(
    "--model-uri",
    "-m",
    required=True,
    metavar="URI",
    help="The model: a path, runs:/<run_id>/<path>, models:/<model_id>, models:/<name>/<version>, "
    "models:/<name>@<alias>, s3://..., mlflow-artifacts:/...",
)
env_manager_option = click.option(
    "--env-manager",
    type=click.Choice(["local", "uv"]),
    default="local",
    show_default=True,
    help="local: this Python environment. uv: the model's python_env.yaml built into a cached "
    "uv environment (with this mltrail).",
)


@click.group()
def models() -> None:
    """Serve, score and package models saved in the MLmodel format."""


@models.command(context_settings=_NO_SHORT_HELP)
@model_uri_option
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    envvar=["MLTRAIL_PORT", "MLFLOW_PORT"],
    help="Port to listen on.",
)
@click.option(
    "--host",
    "-h",
    default="127.0.0.1",
    show_default=True,
    envvar=["MLTRAIL_HOST", "MLFLOW_HOST"],
    help="Interface to listen on (0.0.0.0 for every interface).",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="MLFLOW_MODELS_WORKERS",
    help="Worker processes, each with its own model.",
)
@click.option(
    "--timeout",
    "-t",
    type=click.FloatRange(min=0.001),
    default=60.0,
    show_default=True,
    envvar="MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT",
    help="Seconds a request may take; then HTTP 504.",
)
@env_manager_option
@click.option("--no-conda", is_flag=True, help="Same as --env-manager local (MLflow 1.x flag).")
@click.option(
    "--allowed-hosts",
    envvar="MLTRAIL_SCORING_ALLOWED_HOSTS",
    metavar="LIST",
    help="Comma-separated Host names the server answers to (loopback and private "
    "addresses always; * for any).",
)
@click.option(
    "--cors-allowed-origins",
    envvar="MLTRAIL_SCORING_CORS_ALLOWED_ORIGINS",
    metavar="LIST",
    help="Comma-separated browser origins allowed to POST.",
)
@click.option(
    "--max-body-size",
    envvar="MLTRAIL_SCORING_MAX_BODY_SIZE",
    metavar="SIZE",
    default="4MiB",
    show_default=True,
    help="Largest request body (e.g. 4MiB, 64MiB); over it, HTTP 413.",
)
@tracking_uri_option
def serve(
    model_uri: str,
    port: int,
    host: str,
    workers: int,
    timeout: float,
    env_manager: str,
    no_conda: bool,
    allowed_hosts: str | None,
    cors_allowed_origins: str | None,
    max_body_size: str,
    tracking_uri: str | None,
) -> None:
    """Serve a model: POST JSON or CSV to /invocations; /ping and /health answer 200."""
    from mltrail.cli.server import _check_port_free, parse_size
    from mltrail.models.serving.runner import ServeOptions
    from mltrail.models.serving.runner import serve as run

    _use_tracking_uri(tracking_uri)
    if no_conda:
        env_manager = "local"
    _check_port_free(host, port)
    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        timeout=timeout,
        allowed_hosts=_items(allowed_hosts),
        cors_allowed_origins=_items(cors_allowed_origins),
        max_body_bytes=parse_size(max_body_size),
    )
    run(model_uri, options, env_manager=env_manager)


@models.command()
@model_uri_option
@click.option("--input-path", "-i", metavar="PATH", help="Input file (default: stdin).")
@click.option("--output-path", "-o", metavar="PATH", help="Output file (default: stdout).")
@click.option(
    "--content-type",
    "-t",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="json: an /invocations body; csv: a table with a header.",
)
@env_manager_option
@tracking_uri_option
def predict(
    model_uri: str,
    input_path: str | None,
    output_path: str | None,
    content_type: str,
    env_manager: str,
    tracking_uri: str | None,
) -> None:
    """Score a JSON or CSV file with a model; writes {"predictions": ...}."""
    from mltrail.models.batch import predict as run

    _use_tracking_uri(tracking_uri)
    run(
        model_uri,
        input_path=input_path,
        content_type=content_type,
        output_path=output_path,
        env_manager=env_manager,
    )


def _docker_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--model-uri",
                "-m",
                metavar="URI",
                help="The model to bake in (without it, the image serves a model "
                "mounted at /opt/ml/model).",
            ),
            click.option(
                "--env-manager",
                type=click.Choice(["local"]),
                default="local",
                show_default=True,
                help="local: the model's requirements installed into the image.",
            ),
            click.option(
                "--install-java",
                type=bool,
                default=None,
                help="Install a Java runtime (default: only for Spark models).",
            ),
            click.option(
                "--base-image",
                metavar="IMAGE",
                help="Base image (default: python:<the model's Python>-slim).",
            ),
            tracking_uri_option,
        ]
    ):
        func = option(func)
    return func


@models.command("generate-dockerfile")
@_docker_options
@click.option(
    "--output-directory",
    "-d",
    default="mltrail-dockerfile",
    show_default=True,
    metavar="DIR",
    help="Folder to write the Dockerfile and its context into.",
)
def generate_dockerfile(
    model_uri: str | None,
    env_manager: str,
    install_java: bool | None,
    base_image: str | None,
    tracking_uri: str | None,
    output_directory: str,
) -> None:
    """Write a Dockerfile (and the model and mltrail it needs) to build a serving image."""
    from mltrail.models.docker import generate_dockerfile as run

    _use_tracking_uri(tracking_uri)
    path = run(model_uri, output_directory, install_java=install_java, base_image=base_image)
    click.echo(f"Wrote {path}. Build it with: docker build -t <name> {output_directory}")


@models.command("build-docker")
@_docker_options
@click.option(
    "--name",
    "-n",
    default="mltrail-pyfunc",
    show_default=True,
    metavar="NAME",
    help="Image name (tag).",
)
def build_docker(
    model_uri: str | None,
    env_manager: str,
    install_java: bool | None,
    base_image: str | None,
    tracking_uri: str | None,
    name: str,
) -> None:
    """Build a Docker image that serves the model on port 8080 (needs a Docker engine)."""
    from mltrail.models.docker import build_docker as run

    _use_tracking_uri(tracking_uri)
    run(model_uri, name, install_java=install_java, base_image=base_image)
    click.echo(f"Built {name}. Run it with: docker run -p 5001:8080 {name}")
