"""``mltrail server`` and ``mltrail ui``: run the tracking server (API, artifact proxy, web UI).

Both take the same options; ``ui`` is the one to type on a laptop. Every option can also come
from the environment (``MLTRAIL_*``, or MLflow's ``MLFLOW_*`` name). With ``--workers N`` > 1
the settings travel to the uvicorn worker processes through the environment
(``ServerSettings.to_env``), and each worker builds its app with ``app_from_env``.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Callable
from typing import Any

import click

from mltrail.version import __version__

DEFAULT_DB = "sqlite:///./mltrail.db"
DEFAULT_DESTINATION = "./mltrail-artifacts"


def _env(name: str) -> list[str]:
    return [f"MLTRAIL_{name}", f"MLFLOW_{name}"]


def _server_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--backend-store-uri",
            envvar=_env("BACKEND_STORE_URI"),
            default=DEFAULT_DB,
            show_default=True,
            metavar="URI",
            help="Where runs, params and metrics are stored: sqlite:///file.db, "
            "postgresql://user@host/db, mysql://... or a folder.",
        ),
        click.option(
            "--default-artifact-root",
            envvar=_env("DEFAULT_ARTIFACT_ROOT"),
            metavar="URI",
            help="Artifact location given to new experiments. Default: mlflow-artifacts:/ "
            "(clients upload through this server) with --serve-artifacts, else the "
            "artifacts destination.",
        ),
        click.option(
            "--artifacts-destination",
            envvar=_env("ARTIFACTS_DESTINATION"),
            default=DEFAULT_DESTINATION,
            show_default=True,
            metavar="URI",
            help="Where the server stores artifacts it receives: a folder or s3://bucket/path.",
        ),
        click.option(
            "--serve-artifacts/--no-serve-artifacts",
            envvar=_env("SERVE_ARTIFACTS"),
            default=True,
            show_default=True,
            help="Let clients upload and download artifacts through this server.",
        ),
        click.option(
            "--host",
            envvar=_env("HOST"),
            default="127.0.0.1",
            show_default=True,
            help="Address to listen on; 0.0.0.0 for every interface.",
        ),
        click.option(
            "--port",
            "-p",
            envvar=_env("PORT"),
            type=click.IntRange(0, 65535),
            default=5000,
            show_default=True,
        ),
        click.option(
            "--workers",
            "-w",
            envvar=_env("WORKERS"),
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Worker processes (they share one database; use PostgreSQL for many).",
        ),
        click.option(
            "--allowed-hosts",
            envvar=_env("SERVER_ALLOWED_HOSTS"),
            metavar="LIST",
            help="Comma-separated Host names the server answers to (wildcards like "
            "*.example.com, CIDR ranges, * for any). Default: localhost and private addresses.",
        ),
        click.option(
            "--cors-allowed-origins",
            envvar=_env("SERVER_CORS_ALLOWED_ORIGINS"),
            metavar="LIST",
            help="Comma-separated browser origins allowed to call the API from other sites "
            "(e.g. https://app.example.com, * for any). Default: local origins only.",
        ),
        click.option(
            "--allowed-artifact-locations",
            envvar="MLTRAIL_ALLOWED_ARTIFACT_LOCATIONS",
            metavar="LIST",
            help="Comma-separated storage roots under which clients may place an experiment's "
            "artifacts (s3://bucket/prefix, /shared/folder, mlflow-artifacts:/). Default: the "
            "artifact root through the proxy and the default artifact root.",
        ),
        click.option(
            "--webhook-allowed-hosts",
            envvar="MLTRAIL_WEBHOOK_ALLOWED_HOSTS",
            metavar="LIST",
            help="Comma-separated hosts, *.domains, addresses or networks registry webhooks "
            "may be sent to. Default: any public host; loopback, link-local and private "
            "addresses only when listed.",
        ),
        click.option(
            "--max-body-size",
            envvar="MLTRAIL_MAX_BODY_SIZE",
            metavar="SIZE",
            default="4MiB",
            show_default=True,
            help="Largest JSON request body (e.g. 4MiB, 512KiB, bytes); over it, HTTP 413. "
            "Artifact uploads stream and are not limited.",
        ),
        click.option(
            "--run-lease",
            envvar="MLTRAIL_RUN_LEASE",
            metavar="DURATION",
            default="5m",
            show_default=True,
            help="How long a RUNNING run whose client sends heartbeats (mltrail's) may go "
            "without one before it is marked KILLED (300, 5m, 1h; none: no leases at all).",
        ),
        click.option(
            "--run-lease-without-heartbeats",
            envvar="MLTRAIL_RUN_LEASE_WITHOUT_HEARTBEATS",
            metavar="DURATION",
            default="24h",
            show_default=True,
            help="The same for runs whose client sends no heartbeats (the mlflow client): "
            "time since the run's last write; none to never mark them KILLED.",
        ),
        click.option(
            "--expose-prometheus",
            envvar="MLTRAIL_EXPOSE_PROMETHEUS",
            metavar="[DIR]",
            is_flag=False,
            flag_value="on",
            default=None,
            help="Serve Prometheus metrics at /metrics (requests and latency by route, points "
            "ingested, errors, database pool, leases), summed over all workers. DIR (optional): "
            "the folder the workers share their figures in.",
        ),
        click.option(
            "--artifacts-only",
            envvar="MLTRAIL_ARTIFACTS_ONLY",
            is_flag=True,
            help="Serve only the artifact proxy (/api/2.0/mlflow-artifacts/...) and probes.",
        ),
        click.option(
            "--auth/--no-auth",
            envvar="MLTRAIL_AUTH",
            default=None,
            help="Require users (HTTP basic or API tokens) and check permissions. Default: on "
            "when the server listens on anything but loopback. The first administrator comes "
            "from `mltrail users create-admin` or MLTRAIL_AUTH_ADMIN_USERNAME/PASSWORD.",
        ),
        click.option(
            "--auth-default-permission",
            envvar="MLTRAIL_AUTH_DEFAULT_PERMISSION",
            type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False),
            default="READ",
            show_default=True,
            help="With --auth: what users may do with experiments and models they have no "
            "grant on.",
        ),
        click.option(
            "--static-prefix",
            envvar="MLTRAIL_STATIC_PREFIX",
            metavar="PREFIX",
            default=None,
            help="Serve everything (UI, REST and ajax API, artifact proxy) under this path, "
            "e.g. /mlflow behind an ingress; clients use MLFLOW_TRACKING_URI=http://host/mlflow.",
        ),
        click.option(
            "--registry-store-uri",
            envvar=["MLTRAIL_REGISTRY_STORE_URI", "MLFLOW_REGISTRY_STORE_URI"],
            metavar="URI",
            default=None,
            help="A separate database for the model registry (sqlite:///..., postgresql://...). "
            "Default: the backend store.",
        ),
        click.option(
            "--max-concurrent-requests",
            envvar="MLTRAIL_MAX_CONCURRENT_REQUESTS",
            type=click.IntRange(min=1),
            default=256,
            show_default=True,
            help="Requests each worker serves at once; more wait up to 10 s, then get 503 "
            "with Retry-After (clients retry).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _local(path_or_uri: str) -> str:
    """Absolute path for a folder; URIs (s3://...) unchanged."""
    if "://" in path_or_uri or path_or_uri.startswith("file:"):
        return path_or_uri
    return os.path.abspath(path_or_uri)


def build_settings(
    backend_store_uri: str,
    default_artifact_root: str | None,
    artifacts_destination: str,
    serve_artifacts: bool,
    allowed_hosts: str | None,
    cors_allowed_origins: str | None,
    allowed_artifact_locations: str | None = None,
    max_body_size: str = "4MiB",
    webhook_allowed_hosts: str | None = None,
    run_lease: str = "5m",
    run_lease_without_heartbeats: str = "24h",
    max_concurrent_requests: int = 256,
    auth: bool | None = None,
    auth_default_permission: str = "READ",
    expose_prometheus: str | None = None,
    artifacts_only: bool = False,
    static_prefix: str | None = None,
    registry_store_uri: str | None = None,
) -> Any:
    from mltrail.server.settings import ServerSettings

    backend = _database_uri(backend_store_uri, "--backend-store-uri")
    if artifacts_only and not serve_artifacts:
        raise click.BadParameter(
            "an artifacts-only server serves artifacts; drop --no-serve-artifacts.",
            param_hint="--artifacts-only",
        )
    registry = None
    if registry_store_uri:
        registry = _database_uri(registry_store_uri, "--registry-store-uri")
    destination = _local(artifacts_destination)
    if default_artifact_root:
        root = _local(default_artifact_root)
    else:
        root = "mlflow-artifacts:/" if serve_artifacts else destination
    return ServerSettings(
        backend_store_uri=backend,
        default_artifact_root=root,
        artifacts_destination=destination,
        serve_artifacts=serve_artifacts,
        allowed_hosts=_split(allowed_hosts),
        cors_allowed_origins=_split(cors_allowed_origins),
        allowed_artifact_locations=_allowed_locations(allowed_artifact_locations),
        max_body_bytes=parse_size(max_body_size),
        webhook_allowed_hosts=_split(webhook_allowed_hosts),
        run_lease_seconds=_duration(run_lease, "--run-lease"),
        silent_run_lease_seconds=_duration(
            run_lease_without_heartbeats, "--run-lease-without-heartbeats"
        ),
        max_concurrent_requests=max_concurrent_requests,
        auth=bool(auth),
        expose_prometheus=expose_prometheus not in (None, "", "0", "false"),
        prometheus_dir=_prometheus_dir(expose_prometheus),
        artifacts_only=artifacts_only,
        auth_default_permission=auth_default_permission.upper(),
        static_prefix=_prefix(static_prefix),
        registry_store_uri=registry if registry != backend else None,
    )


def _prometheus_dir(value: str | None) -> str | None:
    """``--expose-prometheus DIR`` (MLflow's form): the folder the workers share figures in."""
    if value in (None, "", "0", "false", "on", "1", "true"):
        return None
    return os.path.abspath(str(value))


def _database_uri(text: str, option: str) -> str:
    """A database URI with an absolute SQLite path; one error for a server's address."""
    from mltrail.tracking.uri import normalize_tracking_uri

    uri = normalize_tracking_uri(text)
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        uri = "sqlite:///" + os.path.abspath(uri[len("sqlite:///") :])
    if uri.startswith(("http://", "https://")):
        raise click.BadParameter(
            "the server stores its data in a database; give sqlite:///..., postgresql://... "
            "or a folder, not another server's address.",
            param_hint=option,
        )
    return uri


def _prefix(text: str | None) -> str:
    from mltrail.server.prefix import normalize_prefix

    try:
        return normalize_prefix(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--static-prefix") from None


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _duration(text: str, option: str) -> float | None:
    from mltrail.server.leases import parse_seconds

    try:
        return parse_seconds(text, option)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _allowed_locations(value: str | None) -> tuple[str, ...]:
    from mltrail.exceptions import InvalidParameter
    from mltrail.server.locations import parse_location

    has_scheme = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
    roots = tuple(item if has_scheme.match(item) else _local(item) for item in _split(value))
    for root in roots:
        try:
            parse_location(root, "allowed artifact location")
        except InvalidParameter as exc:
            raise click.BadParameter(
                exc.message, param_hint="--allowed-artifact-locations"
            ) from None
    return roots


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2}
_UNITS |= {"mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_size(text: str) -> int:
    """``"4MiB"`` -> 4194304; ``"512k"``, ``"1000"`` too. A positive size, or click's error."""
    number = text.strip().lower()
    digits = number.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = number[len(digits) :].strip()
    try:
        size = int(float(digits) * _UNITS[unit])
    except (KeyError, ValueError):
        size = 0
    if size <= 0:
        raise click.BadParameter(
            f"{text!r} is not a size; write it like 4MiB, 512KiB or 1000000.",
            param_hint="--max-body-size",
        )
    return size


def run_server(settings: Any, host: str, port: int, workers: int, title: str) -> None:
    import uvicorn

    from mltrail.server.app import create_app, tune_gc_for_serving
    from mltrail.store.sql.engine import dispose_engines
    from mltrail.store.sql.store import SqlStore

    _check_port_free(host, port)
    # Open the store once here: a bad URI fails now with one sentence, and the schema is
    # migrated before any worker starts.
    store = SqlStore(settings.backend_store_uri, settings.default_artifact_root)
    if settings.auth:
        from mltrail.server.app import open_auth_store

        open_auth_store(settings, store)  # no user yet: one sentence now, not in each worker
    if settings.registry_store_uri:
        from mltrail.store.sql.registry import SqlRegistryStore

        SqlRegistryStore(settings.registry_store_uri)  # a bad URI fails now; schema migrated
    _announce(settings, host, port, workers, title)
    common: dict[str, Any] = {"host": host, "port": port, "log_level": "warning"}
    if workers == 1:
        import dataclasses

        # One worker answers for itself: nothing to share (and no stale figures to add).
        settings = dataclasses.replace(settings, prometheus_dir=None)
        app = create_app(settings, tracking_store=store)
        tune_gc_for_serving()
        uvicorn.run(app, access_log=False, **common)
        return
    dispose_engines()  # the workers open their own connections
    scratch = None
    if settings.expose_prometheus:  # one /metrics answer for all workers: a shared folder
        import dataclasses
        import tempfile

        from mltrail.server.metrics_share import clear

        if settings.prometheus_dir is None:
            scratch = tempfile.TemporaryDirectory(prefix="mltrail-metrics-")
            settings = dataclasses.replace(settings, prometheus_dir=scratch.name)
        clear(settings.prometheus_dir)
    os.environ.update(settings.to_env())
    try:
        uvicorn.run(
            "mltrail.server.app:app_from_env",
            factory=True,
            workers=workers,
            access_log=False,
            **common,
        )
    finally:
        if scratch is not None:
            scratch.cleanup()


def _announce(settings: Any, host: str, port: int, workers: int, title: str) -> None:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    root = settings.default_artifact_root
    if root.startswith("mlflow-artifacts:"):
        artifacts = f"{settings.artifacts_destination} (uploaded through this server)"
    else:
        # New experiments point clients at this location: they write it themselves.
        artifacts = f"{root} (clients write there directly)"
        if settings.serve_artifacts:
            artifacts += f"\n  artifact proxy:   {settings.artifacts_destination}"
    lines = [
        f"mltrail {title} {__version__}",
        f"  runs and metrics: {settings.backend_store_uri}",
        f"  artifacts:        {artifacts}",
        f"  open:             http://{shown_host}:{port}{settings.static_prefix}",
    ]
    if settings.registry_store_uri:
        lines.insert(2, f"  model registry:   {settings.registry_store_uri}")
    if workers > 1:
        lines.append(f"  workers:          {workers}")
    if settings.auth:
        lines.append(
            f"  authentication:   on (users without a grant: {settings.auth_default_permission})"
        )
    elif not _is_loopback(host):
        lines.append(
            "  note: listening beyond this machine without authentication (--no-auth); "
            "anyone who can reach this port can read and change runs."
        )
    lines.append("Press Ctrl+C to stop.")
    click.echo("\n".join(lines))


def _check_port_free(host: str, port: int) -> None:
    if _can_bind(host, port):
        return
    owner = port_owner(port)
    who = f" by {owner}" if owner else ""
    free = free_port(host, port + 1)
    hint = f" Stop it, or use a free port: --port {free}." if free else " Stop it first."
    raise click.ClickException(f"Port {port} on {host} is already in use{who}.{hint}")


def _can_bind(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    return True


def free_port(host: str, start: int) -> int | None:
    for candidate in range(start, min(start + 100, 65536)):
        if _can_bind(host, candidate):
            return candidate
    return None


def port_owner(port: int) -> str | None:
    """``"python3 -m http.server (pid 123)"`` for the process listening on ``port``, if
    Linux's /proc tells us (it does not for other users' processes)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{inode}]")
        except (OSError, ValueError, IndexError, StopIteration):
            continue
    if not inodes:
        return None
    for pid in filter(str.isdigit, _listdir("/proc")):
        for fd in _listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return f"{_command_line(pid)} (pid {pid})"
            except OSError:
                continue
    return None


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _command_line(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = fh.read().split(b"\0")
    except OSError:
        return "another process"
    text = " ".join(w.decode(errors="replace") for w in words if w)
    return text if len(text) <= 80 else text[:77] + "..."


def _command(title: str, doc: str) -> click.Command:
    @_server_options
    def command(host: str, port: int, workers: int, **options: Any) -> None:
        context = click.get_current_context()
        silent_source = context.get_parameter_source("run_lease_without_heartbeats")
        if title == "ui" and silent_source == click.core.ParameterSource.DEFAULT:
            # On a laptop, scripts often write to ./mltrail.db directly, unseen by the server:
            # only runs that send heartbeats get a lease.
            options["run_lease_without_heartbeats"] = "none"
        if title == "ui" and not options.get("default_artifact_root"):
            # One person, one machine: experiments made in the UI keep their artifacts where
            # a local script (tracking to the same ./mltrail.db) writes them too.
            options["default_artifact_root"] = options["artifacts_destination"]
        if options.get("auth") is None:
            options["auth"] = not _is_loopback(host)  # reachable from elsewhere: sign in
        settings = build_settings(**options)
        run_server(settings, host, port, workers, title)

    command.__doc__ = doc
    return click.command(title)(command)


server_command = _command(
    "server",
    "Run the tracking server for a team: the MLflow-compatible REST API, the artifact "
    "proxy and the web UI. Point clients at it with MLFLOW_TRACKING_URI=http://host:port.",
)
ui_command = _command(
    "ui",
    "Open the web UI (and the API) on the local store, ./mltrail.db and ./mltrail-artifacts "
    "unless told otherwise.",
)

__all__ = ["free_port", "port_owner", "server_command", "ui_command"]
