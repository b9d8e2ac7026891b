"""``X-Mltrail-Version`` on every answer: which mltrail served it (``/version`` answers the
MLflow API version, for the ``mlflow`` client's feature checks)."""

from __future__ import annotations

from typing import Any

from mltrail.version import __version__

_HEADER = (b"x-mltrail-version", __version__.encode())


class VersionHeaderMiddleware:
    """A plain ASGI wrapper (no per-request task, unlike Starlette's BaseHTTPMiddleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), _HEADER]
            await send(message)

        await self.app(scope, receive, send_with_version)
