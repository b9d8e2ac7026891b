"""Server settings, read once at the edge (CLI flags or environment) into a frozen record.

Workers started by uvicorn's ``--factory`` rebuild the app from the environment, so every
setting can also come from an ``MLTRAIL_*`` variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mltrail.server.prefix import normalize_prefix

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    backend_store_uri: str
    default_artifact_root: str
    artifacts_destination: str
    serve_artifacts: bool = True
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    # Where clients may ask for artifacts to live (experiments/create's artifact_location).
    # Empty: the artifact root through the proxy and the default artifact root.
    allowed_artifact_locations: tuple[str, ...] = ()
    # JSON bodies; artifact uploads stream. Sized to hold the largest valid request, a full
    # log-batch (1000 metrics, 100 params and 100 tags at their longest) with room to spare.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Hosts, *.domains, addresses or networks registry webhooks may be sent to. Empty: any
    # public host; loopback, link-local and private addresses only when listed here.
    webhook_allowed_hosts: tuple[str, ...] = ()
    # Run leases (server/leases.py): seconds without news before a RUNNING run is KILLED, for
    # clients that send heartbeats and for those that do not (None: never).
    # Backpressure (server/backpressure.py): requests served at once per worker, and how long
    # one more may wait for a slot before it is answered 503 with Retry-After.
    max_concurrent_requests: int = 256
    queue_seconds: float = 10.0
    run_lease_seconds: float | None = 300.0
    # Authentication (server/auth): users, tokens, grants; the permission of users without one.
    expose_prometheus: bool = False  # /metrics (server/metrics.py)
    # Where the workers of one server share their figures for /metrics (server/metrics_share.py);
    # None: each worker answers for itself (one worker).
    prometheus_dir: str | None = None
    artifacts_only: bool = False  # serve only the artifact proxy
    auth: bool = False
    # --static-prefix: every route under this path ("" for none), see server/prefix.py.
    static_prefix: str = ""
    # --registry-store-uri: the model registry's own database (None: the tracking database).
    registry_store_uri: str | None = None
    auth_default_permission: str = "READ"
    silent_run_lease_seconds: float | None = 24 * 3600.0
    extra: dict[str, str] = field(default_factory=dict)

    def to_env(self) -> dict[str, str]:
        return {
            "MLTRAIL_BACKEND_STORE_URI": self.backend_store_uri,
            "MLTRAIL_DEFAULT_ARTIFACT_ROOT": self.default_artifact_root,
            "MLTRAIL_ARTIFACTS_DESTINATION": self.artifacts_destination,
            "MLTRAIL_SERVE_ARTIFACTS": "1" if self.serve_artifacts else "0",
            "MLTRAIL_ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            "MLTRAIL_CORS_ALLOWED_ORIGINS": ",".join(self.cors_allowed_origins),
            "MLTRAIL_ALLOWED_ARTIFACT_LOCATIONS": ",".join(self.allowed_artifact_locations),
            "MLTRAIL_MAX_BODY_BYTES": str(self.max_body_bytes),
            "MLTRAIL_WEBHOOK_ALLOWED_HOSTS": ",".join(self.webhook_allowed_hosts),
            "MLTRAIL_MAX_CONCURRENT_REQUESTS": str(self.max_concurrent_requests),
            "MLTRAIL_AUTH": "1" if self.auth else "0",
            "MLTRAIL_EXPOSE_PROMETHEUS": "1" if self.expose_prometheus else "0",
            "MLTRAIL_PROMETHEUS_DIR": self.prometheus_dir or "",
            "MLTRAIL_ARTIFACTS_ONLY": "1" if self.artifacts_only else "0",
            "MLTRAIL_AUTH_DEFAULT_PERMISSION": self.auth_default_permission,
            "MLTRAIL_STATIC_PREFIX": self.static_prefix,
            "MLTRAIL_REGISTRY_STORE_URI": self.registry_store_uri or "",
            "MLTRAIL_RUN_LEASE": _seconds_text(self.run_lease_seconds),
            "MLTRAIL_RUN_LEASE_WITHOUT_HEARTBEATS": _seconds_text(self.silent_run_lease_seconds),
        }

    def artifact_location_roots(self) -> tuple[str, ...]:
        """The allowlist in force: the operator's, else the server's own roots."""
        from mltrail.server.locations import ArtifactLocationPolicy

        if self.allowed_artifact_locations:
            return self.allowed_artifact_locations
        return tuple(
            ArtifactLocationPolicy.default_roots(self.default_artifact_root, self.serve_artifacts)
        )

    @classmethod
    def from_env(cls) -> ServerSettings:
        def items(name: str) -> tuple[str, ...]:
            raw = os.environ.get(name, "")
            return tuple(x.strip() for x in raw.split(",") if x.strip())

        backend = os.environ.get("MLTRAIL_BACKEND_STORE_URI") or "sqlite:///" + os.path.abspath(
            "mltrail.db"
        )
        destination = os.environ.get("MLTRAIL_ARTIFACTS_DESTINATION") or os.path.abspath(
            "mltrail-artifacts"
        )
        return cls(
            backend_store_uri=backend,
            default_artifact_root=os.environ.get("MLTRAIL_DEFAULT_ARTIFACT_ROOT")
            or "mlflow-artifacts:/",
            artifacts_destination=destination,
            serve_artifacts=os.environ.get("MLTRAIL_SERVE_ARTIFACTS", "1") != "0",
            allowed_hosts=items("MLTRAIL_ALLOWED_HOSTS"),
            cors_allowed_origins=items("MLTRAIL_CORS_ALLOWED_ORIGINS"),
            allowed_artifact_locations=items("MLTRAIL_ALLOWED_ARTIFACT_LOCATIONS"),
            max_body_bytes=_positive_int(
                os.environ.get("MLTRAIL_MAX_BODY_BYTES"), DEFAULT_MAX_BODY_BYTES
            ),
            webhook_allowed_hosts=items("MLTRAIL_WEBHOOK_ALLOWED_HOSTS"),
            max_concurrent_requests=_positive_int(
                os.environ.get("MLTRAIL_MAX_CONCURRENT_REQUESTS"), 256
            ),
            auth=os.environ.get("MLTRAIL_AUTH", "0") == "1",
            expose_prometheus=os.environ.get("MLTRAIL_EXPOSE_PROMETHEUS", "0") == "1",
            prometheus_dir=os.environ.get("MLTRAIL_PROMETHEUS_DIR") or None,
            artifacts_only=os.environ.get("MLTRAIL_ARTIFACTS_ONLY", "0") == "1",
            auth_default_permission=os.environ.get("MLTRAIL_AUTH_DEFAULT_PERMISSION") or "READ",
            static_prefix=normalize_prefix(os.environ.get("MLTRAIL_STATIC_PREFIX")),
            registry_store_uri=os.environ.get("MLTRAIL_REGISTRY_STORE_URI") or None,
            run_lease_seconds=_seconds(os.environ.get("MLTRAIL_RUN_LEASE"), 300.0),
            silent_run_lease_seconds=_seconds(
                os.environ.get("MLTRAIL_RUN_LEASE_WITHOUT_HEARTBEATS"), 24 * 3600.0
            ),
        )


def _positive_int(raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    value = int(raw)
    if value <= 0:
        raise ValueError(f"expected a positive number of bytes, got {raw!r}")
    return value


def _seconds_text(value: float | None) -> str:
    return "none" if value is None else repr(float(value))


def _seconds(raw: str | None, default: float | None) -> float | None:
    from mltrail.server.leases import parse_seconds

    if raw is None:
        return default
    return parse_seconds(raw, "lease")
