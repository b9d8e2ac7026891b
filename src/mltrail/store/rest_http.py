"""HTTP to a tracking server: pooled sessions, retries with backoff, auth from the environment,
and error answers turned back into mltrail exceptions.

Settings are read from the environment on every request (cheap), so a token rotated in the
environment is picked up without rebuilding anything. ``MLTRAIL_*`` names win over MLflow's.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from mltrail.exceptions import (
    AlreadyExists,
    InvalidParameter,
    InvalidState,
    MltrailException,
    NotFound,
    SearchSyntaxError,
    StoreUnavailable,
    error_code_for_status,
)
from mltrail.store import http_policy, rest_plain
from mltrail.version import __version__

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_SLEEP_SECONDS = 120.0

_sleep = time.sleep  # swapped by tests that watch the backoff
logger = logging.getLogger("mltrail.http")

# Retries of a request when MLTRAIL_HTTP_REQUEST_MAX_RETRIES is not set: see http_policy.
INTERACTIVE_RETRIES = http_policy.INTERACTIVE_RETRIES
use_interactive_retries = http_policy.use_interactive_retries

_EXCEPTION_BY_CODE: dict[str, type[MltrailException]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "INVALID_PARAMETER_VALUE": InvalidParameter,
    "INVALID_STATE": InvalidState,
}

# Origins (scheme://host:port) that may receive the tracking credentials. A server could hand
# out artifact URIs on another host; credentials must not follow them there.
_trusted_origins: set[str] = set()


def env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value not in (None, ""):
            return value
    return default


def _env_float(suffix: str, default: float) -> float:
    raw = env(f"MLTRAIL_{suffix}", f"MLFLOW_{suffix}")
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        raise InvalidParameter(f"MLTRAIL_{suffix} must be a number, got {raw!r}.") from None


def _env_bool(suffix: str) -> bool:
    raw = env(f"MLTRAIL_{suffix}", f"MLFLOW_{suffix}", default="") or ""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def trust_origin(url: str) -> None:
    """Allow the tracking credentials to be sent to ``url``'s origin."""
    _trusted_origins.add(origin(url))


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://u:p@host/x`` -> (``http://host/x``, (u, p)): credentials never stay in a URL
    that could be logged or shown in an error."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (parts.username, parts.password or "")


def auth_header(userinfo: tuple[str, str] | None = None) -> dict[str, str]:
    """Basic auth when a user name and password are known, else a bearer token (as MLflow)."""
    user = env("MLTRAIL_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
    password = env("MLTRAIL_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
    pair = (user, password) if user and password else userinfo
    if pair:
        token = base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    bearer = env("MLTRAIL_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN")
    return {"Authorization": f"Bearer {bearer}"} if bearer else {}


def _verify() -> bool | str:
    cert = env("MLTRAIL_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_SERVER_CERT_PATH")
    insecure = _env_bool("TRACKING_INSECURE_TLS")
    if cert and insecure:
        raise InvalidParameter(
            "Set either MLTRAIL_TRACKING_INSECURE_TLS or MLTRAIL_TRACKING_SERVER_CERT_PATH, "
            "not both."
        )
    return cert or not insecure


def _short_reason(exc: BaseException) -> str:
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    if found:
        return found.group(1).strip().lower()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return type(exc).__name__


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    if raw.strip().isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - time.time())


def _is_deterministic_500(response: requests.Response) -> bool:
    """A 500 carrying an application error such as INVALID_STATE fails again if retried."""
    if response.status_code != 500:
        return False
    try:
        code = response.json().get("error_code")
    except (ValueError, AttributeError):
        return False
    return bool(code) and code not in ("INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE")


def raise_for_error(response: requests.Response, what: str) -> None:
    """Turn an error answer into the exception class the server raised."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        code = str(body["error_code"])
        message = str(body.get("message") or f"{what} failed with {code}.")
        if isinstance(body.get("position"), int):  # a search filter that did not parse
            raise SearchSyntaxError(message, position=body["position"])
        cls = _EXCEPTION_BY_CODE.get(code, MltrailException)
        raise cls(message, error_code=code)
    code = error_code_for_status(response.status_code)
    text = " ".join(response.text.split())[:200]
    hint = ""
    if response.status_code in (401, 403):
        hint = (
            " Set MLTRAIL_TRACKING_USERNAME and MLTRAIL_TRACKING_PASSWORD, or "
            "MLTRAIL_TRACKING_TOKEN, to credentials the server accepts."
        )
    raise MltrailException(
        f"{what} failed with HTTP {response.status_code}: {text or 'no details'}.{hint}",
        error_code=code,
    )


# The variables through which the environment may give a proxy for an http(s) URL.
_PROXY_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
)


def _environment_settings(url: str, verify: bool | str) -> tuple[dict[str, str], bool | str, Any]:
    """What ``requests`` takes from the environment for ``url`` (proxies, a CA bundle, .netrc
    credentials), found the same way but faster: ``requests`` scans every environment
    variable twice a request for ``*_proxy`` names, which costs more than a small search on
    the server. Here the scan happens only when a proxy variable is set."""
    environ = os.environ
    if any(name in environ for name in _PROXY_VARIABLES):
        proxies = requests.utils.get_environ_proxies(url)
    else:
        proxies = {}
    if verify is True:
        verify = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify, requests.utils.get_netrc_auth(url)


class HttpClient:
    """A pooled ``requests.Session`` with mltrail's retry, auth and error rules; one per process
    is shared by every store and artifact repository (see ``shared_client``)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        # A session of our own reads the environment through ``_environment_settings``.
        self._own_environment = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self._plain_pool: urllib3.PoolManager | None = None

    def _plain(self, url: str, proxies: Any, netrc_auth: Any, data: Any, stream: bool) -> bool:
        """Whether a call can take the short way of ``rest_plain``."""
        return (
            self._own_environment
            and not proxies
            and netrc_auth is None
            and data is None
            and not stream
            and url.startswith("http://")
        )

    def _plain_request(self, method: str, url: str, **options: Any) -> requests.Response | None:
        """The answer by the short way; None when it is a redirect (for requests to follow)."""
        pool = self._plain_pool
        if pool is None:
            pool = self._plain_pool = urllib3.PoolManager(num_pools=4, maxsize=32)
        try:
            return rest_plain.plain_request(pool, method, url, **options)
        except rest_plain.Redirected:
            return None

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: str | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        send_credentials: bool = True,
        max_retries: int | None = None,
    ) -> requests.Response:
        """Send one request, retrying connection errors and 408/429/5xx with backoff.

        ``data`` may be an open file: it is rewound before each attempt. Raises
        ``StoreUnavailable`` when the server cannot be reached after every attempt.
        """
        url, userinfo = split_userinfo(url)
        all_headers = {"User-Agent": f"mltrail/{__version__}"}
        if json_body is not None:
            all_headers["Content-Type"] = "application/json"
        if send_credentials:
            all_headers.update(auth_header(userinfo))
        all_headers.update(headers or {})
        seconds = _env_float("HTTP_REQUEST_TIMEOUT", 120.0)
        retries = (
            int(_env_float("HTTP_REQUEST_MAX_RETRIES", http_policy.default_retries()))
            if max_retries is None
            else max_retries
        )
        backoff = _env_float("HTTP_REQUEST_BACKOFF_FACTOR", 1.0)
        verify = _verify()
        proxies, netrc_auth = None, None
        if self._own_environment:
            proxies, verify, netrc_auth = _environment_settings(url, verify)
        plain = self._plain(url, proxies, netrc_auth, data, stream)
        start = data.tell() if hasattr(data, "seek") else None
        attempt = 0
        while True:
            if start is not None:
                data.seek(start)
            body = json_body.encode("utf-8") if json_body is not None else data
            timeout = (min(seconds, 10.0), seconds)
            try:
                response = None
                if plain:
                    response = self._plain_request(
                        method, url, params=params, body=body, headers=all_headers,
                        timeout=timeout,
                    )  # fmt: skip
                if response is None:  # not plain, or redirected: requests follows it
                    response = self.session.request(
                        method, url, params=params, data=body, headers=all_headers,
                        stream=stream, timeout=timeout, verify=verify, proxies=proxies,
                        auth=netrc_auth,
                    )  # fmt: skip
            except requests.exceptions.SSLError:
                raise StoreUnavailable(
                    f"The TLS certificate of {display_url(url)} could not be verified; give its "
                    "CA with MLTRAIL_TRACKING_SERVER_CERT_PATH (or, for testing only, set "
                    "MLTRAIL_TRACKING_INSECURE_TLS=true)."
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == 0 and retries > 0:
                    # Said at once: a silent wait of half a minute looks like a hang.
                    logger.warning(
                        "mltrail: cannot reach %s (%s); retrying %d times with backoff "
                        "(MLTRAIL_HTTP_REQUEST_MAX_RETRIES)",
                        display_url(url),
                        _short_reason(exc),
                        retries,
                    )
                if attempt >= retries:
                    raise StoreUnavailable(
                        f"Cannot reach the tracking server at {display_url(url)} "
                        f"({_short_reason(exc)}, {attempt + 1} attempts); check that it is "
                        "running and that the tracking URI is right."
                    ) from None
                delay = None
            else:
                retryable = response.status_code in RETRY_STATUSES
                if not retryable or attempt >= retries or _is_deterministic_500(response):
                    return response
                delay = _retry_after(response)
                response.close()
            attempt += 1
            if delay is None:
                delay = backoff * 2 ** (attempt - 1)
                delay += random.uniform(0, delay / 10)
            _sleep(min(delay, MAX_SLEEP_SECONDS))


def display_url(url: str) -> str:
    """Scheme, host and path of ``url`` without credentials or query (safe to show)."""
    parts = urlsplit(split_userinfo(url)[0])
    return urlunsplit((parts.scheme, parts.netloc, parts.path.split("/api/")[0], "", ""))


_clients: dict[int, HttpClient] = {}
_clients_lock = threading.Lock()


def shared_client() -> HttpClient:
    """The process's pooled client (rebuilt after a fork: sockets must not be shared)."""
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        with _clients_lock:
            client = _clients.get(pid)
            if client is None:
                _clients.clear()
                client = _clients[pid] = HttpClient()
    return client


def may_send_credentials(url: str, tracking_uri: str | None = None) -> bool:
    """Credentials go to a trusted origin (a ``RestStore``'s server) or to the tracking
    server the caller names, never elsewhere."""
    target = origin(url)
    if target in _trusted_origins:
        return True
    tracking = tracking_uri or ""
    return tracking.startswith(("http://", "https://")) and origin(tracking) == target
