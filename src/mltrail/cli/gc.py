"""``mltrail gc``: permanently remove deleted runs, logged models and experiments."""

from __future__ import annotations

import click

from mltrail.cli import output
from mltrail.cli.options import json_option


def _ids(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@click.command("gc")
@click.option(
    "--backend-store-uri",
    envvar=["MLTRAIL_BACKEND_STORE_URI", "MLFLOW_BACKEND_STORE_URI"],
    default="sqlite:///./mltrail.db",
    show_default=True,
    metavar="URI",
    help="The tracking database: sqlite:///file.db, postgresql://..., mysql://...",
)
@click.option(
    "--registry-store-uri",
    envvar=["MLTRAIL_REGISTRY_STORE_URI", "MLFLOW_REGISTRY_STORE_URI"],
    metavar="URI",
    help="The model registry's database, when the server has a separate one "
    "(--registry-store-uri): runs and logged models its versions use are kept.",
)
@click.option(
    "--artifacts-destination",
    envvar=["MLTRAIL_ARTIFACTS_DESTINATION", "MLFLOW_ARTIFACTS_DESTINATION"],
    metavar="URI",
    help="The server's artifacts destination (folder or s3://...): proxied artifacts "
    "(mlflow-artifacts:/) are deleted there directly.",
)
@click.option(
    "--tracking-uri",
    envvar=["MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI"],
    metavar="URI",
    help="Without --artifacts-destination: the server (http://...) whose artifact proxy "
    "deletes proxied artifacts.",
)
@click.option(
    "--older-than",
    metavar="AGE",
    help="Only what was deleted more than AGE ago: 30d, 1d2h, 90m, 45s. Default: everything "
    "deleted.",
)
@click.option("--run-ids", metavar="IDS", help="Only these deleted runs (comma-separated).")
@click.option(
    "--experiment-ids", metavar="IDS", help="Only these deleted experiments (comma-separated)."
)
@click.option(
    "--logged-model-ids", metavar="IDS", help="Only these deleted logged models (comma-separated)."
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@json_option
def gc_command(
    backend_store_uri: str,
    registry_store_uri: str | None,
    artifacts_destination: str | None,
    tracking_uri: str | None,
    older_than: str | None,
    run_ids: str | None,
    experiment_ids: str | None,
    logged_model_ids: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Permanently remove deleted runs, logged models and experiments, with their artifacts.

    Deleting only marks things deleted (they can be restored); gc removes them for good:
    their rows, their metric history and their files, locally or on S3, directly or through
    the server's artifact proxy. An experiment's name can be used again afterwards. Nothing
    that is not deleted is touched.
    """
    from mltrail.store.gc import collect, parse_age
    from mltrail.store.sql.engine import get_engine
    from mltrail.store.sql.migrate import upgrade
    from mltrail.tracking.uri import normalize_tracking_uri

    uri = normalize_tracking_uri(backend_store_uri)
    if uri.startswith(("http://", "https://")):
        raise click.BadParameter(
            "gc works on the tracking database itself; give sqlite:///..., postgresql://... "
            "or mysql://..., not a server's address.",
            param_hint="--backend-store-uri",
        )
    engine = get_engine(uri)
    upgrade(engine)
    registry_engine = None
    if registry_store_uri:
        registry_engine = get_engine(normalize_tracking_uri(registry_store_uri))
        upgrade(registry_engine)
    report = collect(
        engine,
        older_than_seconds=parse_age(older_than) if older_than else None,
        run_ids=_ids(run_ids),
        experiment_ids=_ids(experiment_ids),
        model_ids=_ids(logged_model_ids),
        artifacts_destination=artifacts_destination,
        tracking_uri=tracking_uri,
        dry_run=dry_run,
        say=(lambda line: None) if as_json else click.echo,
        registry_engine=registry_engine,
    )
    if as_json:
        output.emit_json(
            {
                "dry_run": report.dry_run,
                "runs": report.runs,
                "logged_models": report.models,
                "experiments": report.experiments,
                "failures": report.failures,
            }
        )
    else:
        what = "would be removed" if dry_run else "removed"
        click.echo(
            f"{len(report.runs)} runs, {len(report.models)} logged models and "
            f"{len(report.experiments)} experiments {what}."
        )
        for failure in report.failures:
            click.echo(f"Not removed: {failure}", err=True)
    if report.failures:
        raise SystemExit(1)
