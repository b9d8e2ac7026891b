"""Browser-facing protections, as one ASGI middleware.

* Host allowlist, against DNS rebinding: a page on ``evil.example`` whose name is re-pointed
  at 127.0.0.1 reaches us with ``Host: evil.example``. Loopback names and addresses are always
  allowed; private addresses (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed unless
  ``--allowed-hosts`` gives an explicit list. IP patterns only ever match IP literals, so
  ``10.*`` does not admit ``10.evil.example``.
* Origin check: a state-changing request sent by a browser from another origin is refused,
  unless that origin is a local one or listed in ``--cors-allowed-origins`` (which also get
  CORS headers). Requests without ``Origin`` (scripts, the mlflow client) pass.
* A cap on JSON request bodies (artifact uploads are exempt: they stream to storage).
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: SAMEORIGIN`` and
  ``Referrer-Policy: same-origin`` on every answer (the UI adds its CSP, user files their
  attachment disposition and sandbox CSP).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail.exceptions import MltrailException
from mltrail.server.settings import ServerSettings

EXEMPT_PATHS = frozenset({"/health", "/version"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNCAPPED_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
LOOPBACK_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128"))
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
# Globs shaped like addresses ("10.*", "fd00:*"): they may only match address literals.
_IP_GLOB = re.compile(r"^[0-9*]+(\.[0-9*]+)*$|^[0-9a-f*]*:[0-9a-f*:]*$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),  # run ids in URLs stay on this site
]


def split_host(host: str) -> tuple[str, str]:
    """``"[::1]:5000"`` -> ``("::1", "5000")``; names are lower-cased, a final dot dropped."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":")
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name.rstrip("."), port
    return host.rstrip("."), ""


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if "%" in name:  # an IPv6 zone id could smuggle a name ("fc00::1%evil.example")
        return None
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostPolicy:
    """Which ``Host`` headers the server answers to."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = [p.strip().lower() for p in patterns if p.strip()]
        self.allow_all = "*" in self.patterns
        self.networks = list(LOOPBACK_NETWORKS) + ([] if self.patterns else list(PRIVATE_NETWORKS))
        self.globs: list[tuple[str, str, bool]] = []  # (name glob, port or "", IP-shaped)
        for pattern in self.patterns:
            try:
                self.networks.append(ipaddress.ip_network(pattern, strict=False))
            except ValueError:
                self.globs.append(_host_glob(pattern))

    def allows(self, host: str | None) -> bool:
        if self.allow_all:
            return True
        if not host:
            return False
        name, port = split_host(host)
        if name in LOOPBACK_NAMES:
            return True
        address = _ip(name)
        if address is not None and any(address in net for net in self.networks):
            return True
        for glob_name, glob_port, ip_shaped in self.globs:
            if glob_port and glob_port != port:
                continue
            if ip_shaped and address is None:
                continue  # "10.*" never admits the name "10.evil.example"
            if fnmatch.fnmatchcase(name, glob_name):
                return True
        return False


def _host_glob(pattern: str) -> tuple[str, str, bool]:
    name, port = split_host(pattern)
    if port == "" and pattern.endswith(":*") and not _IP_GLOB.match(pattern):
        name = pattern[:-2].rstrip(".")  # "host:*": any port, same as "host"
    return name, port, bool(_IP_GLOB.match(name))


class OriginPolicy:
    """Which browser origins may change state, and which get CORS headers."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = [p.strip().lower().rstrip("/") for p in patterns if p.strip()]
        self.allow_all = "*" in self.patterns

    def is_local(self, origin: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_NAMES

    def listed(self, origin: str) -> bool:
        origin = origin.lower().rstrip("/")
        return self.allow_all or any(fnmatch.fnmatchcase(origin, p) for p in self.patterns)

    def allows(self, origin: str, host: str | None) -> bool:
        if host and urlsplit(origin).netloc.lower() == host.lower():
            return True  # same origin: our own web UI
        return self.is_local(origin) or self.listed(origin)


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.hosts = HostPolicy(settings.allowed_hosts)
        self.origins = OriginPolicy(settings.cors_allowed_origins)
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        host = headers.get("host")
        if path not in EXEMPT_PATHS and not self.hosts.allows(host):
            answer = PlainTextResponse(
                "Invalid Host header: this server does not answer to that name (a guard "
                "against DNS rebinding). Add it with --allowed-hosts.",
                status_code=403,
            )
            await answer(scope, receive, send)
            return
        origin = headers.get("origin")
        cors_origin = None
        if origin is not None:
            allowed = self.origins.allows(origin, host)
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await self._preflight(origin, allowed, headers, scope, receive, send)
                return
            if not allowed and scope["method"] in STATE_CHANGING:
                answer = PlainTextResponse("Cross-origin request blocked.", status_code=403)
                await answer(scope, receive, send)
                return
            if allowed:
                cors_origin = origin.encode("latin-1")
        if not path.startswith(UNCAPPED_PREFIXES):
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body:
                await self._too_large(scope, receive, send)
                return
            receive = self._capped(receive)
        await self.app(scope, receive, self._with_headers(send, cors_origin))

    def _with_headers(self, send: Send, cors_origin: bytes | None) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                raw += [h for h in _SECURITY_HEADERS if h[0] not in present]
                if cors_origin is not None:
                    raw += [(b"access-control-allow-origin", cors_origin), (b"vary", b"Origin")]
                message["headers"] = raw
            await send(message)

        return send_with_headers

    def _capped(self, receive: Receive) -> Receive:
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        return capped_receive

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Imported here: the scoring server reuses this middleware without the API's stack.
        from mltrail.server.errors import error_response

        answer = error_response("INVALID_PARAMETER_VALUE", BodyTooLarge(self.max_body).message, 413)
        await answer(scope, receive, send)

    async def _preflight(
        self, origin: str, allowed: bool, headers: Headers, scope: Scope, r: Receive, s: Send
    ) -> None:
        if not allowed:
            await PlainTextResponse("Cross-origin request blocked.", status_code=403)(scope, r, s)
            return
        answer = PlainTextResponse(
            "",
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": headers.get(
                    "access-control-request-headers", "Content-Type"
                ),
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
        await answer(scope, r, self._with_headers(s, None))


class BodyTooLarge(MltrailException):
    """A request body over the server's cap (HTTP 413)."""

    http_status = 413

    def get_http_status_code(self) -> int:
        return 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than this server accepts ({_size(limit)}); send the "
            "data in smaller requests, or raise the server's --max-body-size.",
            error_code="INVALID_PARAMETER_VALUE",
        )


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count >= 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count} bytes"
