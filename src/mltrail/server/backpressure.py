"""Backpressure: under overload, say "come back in a second" instead of falling over.

Each worker serves at most ``max_concurrent`` requests at once. A request beyond that waits up
to ``queue_seconds`` for a slot; if none frees up, it is answered 503
``TEMPORARILY_UNAVAILABLE`` with ``Retry-After``, before its body is read, so nothing of it
was done and a retry is always safe. mltrail's client and the ``mlflow`` client both retry
503 answers (mltrail's honours ``Retry-After``). Probes (``/health``, ``/version``,
``/metrics``) are never held back.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail.server.errors import error_response

EXEMPT = frozenset({"/health", "/version", "/metrics"})
RETRY_AFTER_SECONDS = 1


class Backpressure:
    def __init__(
        self, app: ASGIApp, max_concurrent: int, queue_seconds: float, app_state: Any = None
    ) -> None:
        self.app = app
        if app_state is not None:
            app_state.backpressure = self  # for /metrics
        self.max_concurrent = max_concurrent
        self.queue_seconds = queue_seconds
        self.in_flight = 0
        self.shed = 0  # requests answered 503 (for /metrics)
        self._freed = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_concurrent and not await self._wait_for_slot():
            self.shed += 1
            answer = error_response(
                "TEMPORARILY_UNAVAILABLE",
                "The server is busy; retry after a second.",
                503,
            )
            answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await answer(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._freed.set()

    async def _wait_for_slot(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.queue_seconds
        while self.in_flight >= self.max_concurrent:
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._freed.clear()
            try:
                await asyncio.wait_for(self._freed.wait(), timeout=left)
            except TimeoutError:
                return False
        return True
