"""``create_app``: the ASGI application. No app exists at import time and nothing global is
kept: stores live on ``app.state``, so N workers over one database are interchangeable."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from mltrail.server.locations import ArtifactLocationPolicy
from mltrail.server.settings import ServerSettings
from mltrail.store.base import TrackingStore
from mltrail.store.registry_base import ModelRegistryStore
from mltrail.store.sql.idempotency import IdempotencyKeys
from mltrail.store.sql.leases import LeasePolicy, RunLeases
from mltrail.version import __version__


def create_app(
    settings: ServerSettings | None = None,
    *,
    tracking_store: TrackingStore | None = None,
    registry_store: ModelRegistryStore | None = None,
) -> FastAPI:
    settings = settings or ServerSettings.from_env()
    if tracking_store is None:
        from mltrail.store.sql.store import SqlStore

        tracking_store = SqlStore(settings.backend_store_uri, settings.default_artifact_root)
    if registry_store is None:
        from mltrail.store.sql.registry import SqlRegistryStore

        # By default the registry lives in the tracking database (a version's source is
        # checked against its run and logged model in one transaction); --registry-store-uri
        # gives it a database of its own.
        registry_store = SqlRegistryStore(
            settings.registry_store_uri or settings.backend_store_uri,
            settings.default_artifact_root,
            tracking_uri=settings.backend_store_uri,
        )
    app = FastAPI(
        title="mltrail",
        version=__version__,
        description="MLflow-compatible tracking server (REST API 2.0).",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.store = tracking_store
    app.state.registry_store = registry_store
    _install_webhooks(app, settings)
    app.state.locations = ArtifactLocationPolicy(settings.artifact_location_roots())
    app.state.leases = _leases(settings, tracking_store)
    engine = getattr(tracking_store, "engine", None)
    app.state.idempotency = IdempotencyKeys(engine) if engine is not None else None

    from mltrail.server import artifacts, ui
    from mltrail.server.api import router as api_router

    if settings.artifacts_only:  # a server that only proxies artifacts (and answers probes)
        from mltrail.server.api import meta

        app.include_router(meta.router)
        app.include_router(artifacts.router)
    else:
        app.include_router(api_router)
        app.include_router(artifacts.router)
        app.include_router(ui.router)
    app.state.auth = open_auth_store(settings, tracking_store)
    if app.state.auth is not None:
        from mltrail.server.auth import admin, login
        from mltrail.server.auth import api as auth_api

        app.include_router(auth_api.router)
        app.include_router(login.router)
        if not settings.artifacts_only:
            app.include_router(admin.router)
    _install_layers(app, settings)
    return app


def _install_webhooks(app: FastAPI, settings: ServerSettings) -> None:
    """Registry webhooks live in the tracking database; the dispatcher sends events."""
    from mltrail.server.webhooks import WebhookDispatcher, WebhookUrlPolicy
    from mltrail.store.sql.webhooks import SqlWebhookStore

    app.state.webhook_store = SqlWebhookStore(settings.backend_store_uri)
    policy = WebhookUrlPolicy(settings.webhook_allowed_hosts)
    app.state.webhooks = WebhookDispatcher(app.state.webhook_store, policy)


def open_auth_store(settings: ServerSettings, store: TrackingStore) -> Any:
    """With ``--auth``: the user book, with its first admin (never a default password)."""
    if not settings.auth:
        return None
    import os

    from mltrail.exceptions import MltrailException
    from mltrail.server.auth.store import AuthStore, permission_name

    permission_name(settings.auth_default_permission)
    engine = getattr(store, "engine", None)
    if engine is None:
        raise MltrailException("Authentication needs a SQL tracking database.")
    auth = AuthStore(engine)
    if auth.count_users() == 0:
        username = os.environ.get("MLTRAIL_AUTH_ADMIN_USERNAME", "")
        password = os.environ.get("MLTRAIL_AUTH_ADMIN_PASSWORD", "")
        if not username:
            raise MltrailException(
                "Authentication is on but there is no user yet: create the first administrator "
                "with `mltrail users create-admin`, or set MLTRAIL_AUTH_ADMIN_USERNAME and "
                "MLTRAIL_AUTH_ADMIN_PASSWORD for the first start (there is no default password)."
            )
        try:
            auth.create_user(username, password, is_admin=True)
        except MltrailException as exc:
            if auth.count_users() == 0:  # not another worker creating it at the same moment
                raise MltrailException(f"MLTRAIL_AUTH_ADMIN_PASSWORD: {exc.message}") from None
    return auth


def _leases(settings: ServerSettings, store: TrackingStore) -> RunLeases | None:
    if settings.run_lease_seconds is None or not hasattr(store, "engine"):
        return None
    policy = LeasePolicy(settings.run_lease_seconds, settings.silent_run_lease_seconds)
    return RunLeases(store, policy)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While serving: the lease task (flush noted writes, mark expired runs KILLED)."""
    leases: RunLeases | None = app.state.leases
    audit = asyncio.create_task(_flush_audit(app.state.auth)) if app.state.auth else None
    shared = getattr(app.state, "shared_figures", None)
    figures = asyncio.create_task(_publish_figures(app)) if shared is not None else None
    try:
        if leases is None:
            yield
        else:
            from mltrail.server.leases import running

            async with running(leases):
                yield
    finally:
        if figures is not None:
            figures.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await figures
            app.state.shared_figures.publish(app.state.metrics.snapshot(app.state))
        if audit is not None:
            audit.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await audit
            await asyncio.to_thread(app.state.auth.flush_audit)


async def _publish_figures(app: FastAPI) -> None:
    """With shared /metrics: write this worker's figures every second for the others."""
    while True:
        await asyncio.sleep(1.0)
        try:
            app.state.shared_figures.publish(app.state.metrics.snapshot(app.state))
        except OSError:  # a full disk must not end the loop; the next second tries again
            continue


async def _flush_audit(auth: Any) -> None:
    """Save the audit log's pending entries every second (written in batches, off requests)."""
    while True:
        await asyncio.sleep(1.0)
        try:
            await asyncio.to_thread(auth.flush_audit)
        except Exception:  # noqa: BLE001 - a busy database must not end the loop
            continue


def _install_layers(app: FastAPI, settings: ServerSettings) -> None:
    """Everything around the routes, outermost first:

    1. Starlette's ServerErrorMiddleware (always outermost): an unexpected exception becomes
       our JSON INTERNAL_ERROR body, never a traceback;
    1a. PrefixMiddleware (with ``--static-prefix``): takes the prefix off the path;
    1b. VersionHeaderMiddleware: ``X-Mltrail-Version`` on every answer;
    2. SecurityMiddleware: Host allowlist, Origin check, body cap, headers; it runs before any
       route so a refused request touches nothing;
    3. Backpressure: at most N requests at once per worker, then 503 with Retry-After;
    4. ExceptionMiddleware: MltrailException -> ``{"error_code", "message"}`` with MLflow's
       status; unknown routes and wrong methods in plain text;
    5. the routes.
    """
    from mltrail.server import errors
    from mltrail.server.backpressure import Backpressure
    from mltrail.server.security import SecurityMiddleware
    from mltrail.server.version_header import VersionHeaderMiddleware

    errors.install(app)
    app.add_middleware(
        Backpressure,
        max_concurrent=settings.max_concurrent_requests,
        queue_seconds=settings.queue_seconds,
        app_state=app.state,
    )
    if app.state.auth is not None:
        from mltrail.server.auth.middleware import install

        app.state.forget_credentials = install(
            app, app.state.auth, settings.auth_default_permission
        )
    if settings.expose_prometheus:
        from mltrail.server.metrics import Metrics, MetricsMiddleware

        app.state.metrics = Metrics()
        app.state.shared_figures = None
        if settings.prometheus_dir:  # several workers: one /metrics answer for all of them
            from mltrail.server.metrics_share import SharedFigures

            app.state.shared_figures = SharedFigures(settings.prometheus_dir)
        app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, app_state=app.state)
    app.add_middleware(SecurityMiddleware, settings=settings)
    app.add_middleware(VersionHeaderMiddleware)  # added last: runs first, so refusals carry it
    if settings.static_prefix:  # outside everything: the layers above see unprefixed paths
        from mltrail.server.prefix import PrefixMiddleware

        app.add_middleware(PrefixMiddleware, prefix=settings.static_prefix)


def tune_gc_for_serving() -> None:
    """Fewer cyclic-GC passes while serving: a 1000-point batch allocates tens of thousands of
    short-lived objects (freed by reference counting anyway), and the default thresholds ran
    the collector so often that it cost a quarter of the ingest time under load."""
    gc.freeze()  # what was loaded at start-up is never garbage
    gc.set_threshold(50_000, 20, 20)


def app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory mltrail.server.app:app_from_env`` (workers)."""
    app = create_app(ServerSettings.from_env())
    tune_gc_for_serving()
    return app
