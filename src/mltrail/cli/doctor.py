"""``mltrail doctor``: what this mltrail is and where it tracks, in one screen."""

from __future__ import annotations

import platform
from typing import Any

import click

from mltrail.cli import output
from mltrail.cli.options import common_options

# Packages whose versions matter when something goes wrong (absent ones show as missing).
PACKAGES = ("sqlalchemy", "alembic", "pandas", "numpy", "fastapi", "uvicorn", "requests",
            "psycopg", "pymysql", "boto3", "mlflow-skinny", "mlflow")  # fmt: skip


def _version(package: str) -> str:
    from importlib import metadata  # loaded by `doctor` only, not by every command

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _store_report(uri: str) -> dict[str, Any]:
    """The store behind ``uri``: reachable or not, and its schema revision. Reads only: a
    missing SQLite file is reported, not created."""
    from mltrail.tracking import uri as tracking_uri

    if uri.startswith(("http://", "https://")):
        return {"kind": "tracking server", **_server_report(uri)}
    path = tracking_uri.sqlite_path(uri)
    if path is not None and tracking_uri.is_new_sqlite_store(uri):
        return {"kind": "sqlite", "reachable": False, "problem": f"no store at {path} yet"}
    from mltrail.store.sql import migrate
    from mltrail.store.sql.engine import get_engine

    try:
        revision = migrate.current_revision(get_engine(uri))
    except Exception as exc:  # noqa: BLE001 - the doctor reports every failure as text
        from mltrail.cli import describe_error

        return {"kind": uri.split(":", 1)[0], "reachable": False, "problem": describe_error(exc)}
    return {
        "kind": uri.split(":", 1)[0],
        "reachable": True,
        "schema_revision": revision,
        "schema_current": revision == migrate.HEAD_REVISION,
    }


def _server_report(uri: str) -> dict[str, Any]:
    from mltrail.exceptions import MltrailException
    from mltrail.store.rest_http import shared_client

    try:
        response = shared_client().request("GET", uri.rstrip("/") + "/health")
        version = shared_client().request("GET", uri.rstrip("/") + "/version")
    except MltrailException as exc:
        return {"reachable": False, "problem": exc.message}
    return {
        "reachable": response.status_code == 200,
        "health": response.text.strip()[:100],
        "server_version": version.text.strip()[:100] if version.status_code == 200 else None,
    }


@click.command("doctor")
@common_options
def doctor(tracking_uri: str | None, as_json: bool) -> None:
    """Show versions, the tracking store and its schema, the artifact root, and whether the
    store (or server) can be reached. Exits 1 when it cannot."""
    from mltrail.store.locations import default_artifact_root
    from mltrail.tracking import uri as tracking_uri_mod
    from mltrail.version import __version__

    if tracking_uri:
        tracking_uri_mod.set_tracking_uri(tracking_uri)
    uri = tracking_uri_mod.get_tracking_uri()
    report: dict[str, Any] = {
        "mltrail": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": {name: _version(name) for name in PACKAGES},
        "tracking_uri": uri,
        "store": _store_report(uri),
        "artifact_root": None if uri.startswith("http") else default_artifact_root(uri),
    }
    if as_json:
        output.emit_json(report)
    else:
        store = report["store"]
        output.print_mapping(
            "mltrail doctor",
            {
                "mltrail": report["mltrail"],
                "python": f"{report['python']} ({report['platform']})",
                "tracking URI": uri,
                "store": ", ".join(f"{k}={v}" for k, v in store.items()),
                "artifact root": report["artifact_root"] or "(chosen by the server)",
            },
            sort=False,
        )
        output.print_mapping("Packages", report["packages"])
    if not report["store"]["reachable"]:
        raise SystemExit(1)
