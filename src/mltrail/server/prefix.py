"""``--static-prefix``: the whole server under one path, as behind an ingress that forwards
``/mlflow/...`` unchanged (Kubeflow installs do).

The outermost layer takes the prefix off the request path and records it as the ASGI
``root_path``, so every route, rule and check below sees the paths it always sees. On the way
out it puts the prefix back on redirects. Pages build their links from ``root_path``.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VALID = re.compile(r"^(/[A-Za-z0-9._~\-]+)+$")
# Answered outside the prefix too: a load balancer's probes rarely know it.
_PROBES = frozenset({"/health", "/version"})


def normalize_prefix(text: str | None) -> str:
    """``"mlflow/"`` -> ``"/mlflow"``; ``""`` or ``"/"`` -> ``""`` (no prefix). A ValueError
    for anything that is not plain path segments."""
    value = (text or "").strip()
    if value in ("", "/"):
        return ""
    value = "/" + value.strip("/")
    if not _VALID.match(value) or any(part in (".", "..") for part in value.split("/")):
        raise ValueError(
            f"{text!r} is not a path prefix; write it like /mlflow (letters, digits, . _ ~ -)."
        )
    return value


class PrefixMiddleware:
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self._raw = prefix.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == self.prefix or path.startswith(self.prefix + "/"):
            inner = dict(scope)
            inner["path"] = path[len(self.prefix) :] or "/"
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(self._raw):
                inner["raw_path"] = raw[len(self._raw) :] or b"/"
            inner["root_path"] = scope.get("root_path", "") + self.prefix
            await self.app(inner, receive, self._prefixed_redirects(send))
            return
        if path in _PROBES:
            await self.app(scope, receive, send)
            return
        if path == "/" and scope["type"] == "http":
            await _send_redirect(send, self.prefix + "/")
            return
        await _send_not_found(send, self.prefix, scope["type"])

    def _prefixed_redirects(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (key, self._raw + value if _is_local_location(key, value) else value)
                    for key, value in message.get("headers", [])
                ]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def _is_local_location(key: bytes, value: bytes) -> bool:
    return key.lower() == b"location" and value.startswith(b"/") and not value.startswith(b"//")


async def _send_redirect(send: Send, target: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 308,
            "headers": [(b"location", target.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _send_not_found(send: Send, prefix: str, kind: str) -> None:
    if kind == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = f"Not found: this server answers under {prefix}/.\n".encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def root_of(scope: MutableMapping[str, Any]) -> str:
    """The prefix a request came in under ("" without one)."""
    root = scope.get("root_path", "")
    return root if isinstance(root, str) else ""
