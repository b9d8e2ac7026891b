"""``--expose-prometheus``: the server's own figures at ``/metrics``, in Prometheus' text
format (written here; no client library needed).

Requests and latency by route template (a bounded set of labels: the templates of the route
table, never raw paths), points ingested, errors, requests shed by backpressure, requests in
flight, database connections in use, and runs whose lease ran out. With ``--workers N`` the
workers share their figures through a folder (``metrics_share``), so a scrape that reaches any
one of them answers for all.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}  # bucket counts, then sum, count
        self.points = 0
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, str(status))] += 1
        row = self.latency.get((method, route))
        if row is None:
            row = self.latency[(method, route)] = [0.0] * (len(BUCKETS) + 2)
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                row[i] += 1
        row[-2] += seconds
        row[-1] += 1

    def snapshot(self, app_state: Any) -> dict[str, Any]:
        """This worker's figures as plain data (what ``metrics_share`` writes and sums)."""
        pressure = getattr(app_state, "backpressure", None)
        engine = getattr(getattr(app_state, "store", None), "engine", None)
        pool = getattr(engine, "pool", None)
        leases = getattr(app_state, "leases", None)
        return {
            "pid": os.getpid(),
            "requests": [[*key, count] for key, count in self.requests.items()],
            "latency": [[*key, row] for key, row in self.latency.items()],
            "points": self.points,
            "shed": pressure.shed if pressure is not None else 0,
            "leases_killed": leases.killed_total if leases is not None else 0,
            "in_flight": self.in_flight,
            "pool_in_use": pool.checkedout()
            if pool is not None and hasattr(pool, "checkedout")
            else None,
        }

    def render(self, app_state: Any) -> str:
        figures = self.snapshot(app_state)
        shared = getattr(app_state, "shared_figures", None)
        if shared is not None:
            from mltrail.server.metrics_share import merge

            shared.publish(figures)
            figures = merge(figures, shared.others())
        return render_figures(figures)


def render_figures(figures: dict[str, Any]) -> str:
    """Prometheus' text format for a snapshot (one worker's, or all of them summed)."""
    requests = {(m, r, s): int(n) for m, r, s, n in figures["requests"]}
    latency = {(m, r): row for m, r, row in figures["latency"]}
    out = [
        "# HELP mltrail_http_requests_total HTTP requests answered, by route and status.",
        "# TYPE mltrail_http_requests_total counter",
    ]
    for (method, route, status), count in sorted(requests.items()):
        labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
        out.append(f"mltrail_http_requests_total{{{labels}}} {count}")
    out += [
        "# HELP mltrail_http_request_duration_seconds Time to answer, by route.",
        "# TYPE mltrail_http_request_duration_seconds histogram",
    ]
    for (method, route), row in sorted(latency.items()):
        labels = f'method="{method}",route="{_escape(route)}"'
        for bound, hits in zip(BUCKETS, row, strict=False):
            out.append(
                f'mltrail_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} '
                f"{int(hits)}"
            )
        out.append(
            f'mltrail_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {int(row[-1])}'
        )
        out.append(f"mltrail_http_request_duration_seconds_sum{{{labels}}} {row[-2]:.6f}")
        out.append(f"mltrail_http_request_duration_seconds_count{{{labels}}} {int(row[-1])}")
    errors = sum(n for (_, _, status), n in requests.items() if status[0] == "5")
    out += _single("mltrail_http_server_errors_total", "counter", "Answers 5xx.", errors)
    out += _single(
        "mltrail_metric_points_ingested_total",
        "counter",
        "Metric points accepted by log-batch and log-metric.",
        figures["points"],
    )
    out += _single(
        "mltrail_http_requests_in_flight", "gauge", "Requests being served.", figures["in_flight"]
    )
    out += _single(
        "mltrail_http_requests_shed_total",
        "counter",
        "Requests answered 503 by backpressure.",
        figures["shed"],
    )
    if figures.get("pool_in_use") is not None:
        out += _single(
            "mltrail_db_pool_connections_in_use",
            "gauge",
            "Database connections checked out of the pools.",
            figures["pool_in_use"],
        )
    out += _single(
        "mltrail_run_leases_expired_total",
        "counter",
        "Runs marked KILLED because their lease ran out.",
        figures["leases_killed"],
    )
    return "\n".join(out) + "\n"


def _single(name: str, kind: str, help_text: str, value: float) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _route_label(method: str, path: str) -> str:
    from mltrail.server.auth.rules import template_for

    return template_for(method, path) or "other"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, app_state: Any) -> None:
        self.app = app
        self.metrics = metrics
        self.state = app_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/metrics" and scope["method"] == "GET":
            body = self.metrics.render(self.state)
            answer = PlainTextResponse(body, media_type="text/plain; version=0.0.4")
            await answer(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, watching_send)
        finally:
            self.metrics.in_flight -= 1
            route = _route_label(scope["method"], scope["path"])
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)


def count_points(app_state: Any, count: int) -> None:
    metrics = getattr(app_state, "metrics", None)
    if metrics is not None:
        metrics.points += count
