"""Sending registry events to webhooks: the URL policy, the signature, delivery with retries,
and the dispatcher the registry routes hand events to.

**Where a webhook may point.** A webhook makes the server open connections on a client's
say-so, so its URL is checked when it is saved and again before every delivery:

* ``http`` or ``https`` only, no user name or password in it;
* when the operator set an allowlist (``MLTRAIL_WEBHOOK_ALLOWED_HOSTS``: host names,
  ``*.example.com``, IP addresses or networks such as ``10.1.0.0/16``), the host must match it;
* loopback, link-local (cloud metadata), private and reserved addresses are refused, after
  resolving the name, unless the allowlist names that host or address explicitly.

Deliveries do not follow redirects (a redirect could lead anywhere the check refused).

**What is sent.** MLflow 3's format: a POST of ``{"entity", "action", "timestamp", "data"}``
with ``X-MLflow-Delivery-Id``, ``X-MLflow-Timestamp`` (Unix seconds) and, when the webhook has
a secret, ``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mltrail.entities.webhooks import Webhook, WebhookTestResult
from mltrail.exceptions import InvalidParameter

_log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5  # doubled after each failed attempt
TIMEOUT_SECONDS = 10.0
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


# -- the URL policy -----------------------------------------------------------------------------


class WebhookUrlPolicy:
    def __init__(self, allowed: Sequence[str] = ()) -> None:
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in allowed:
            item = item.strip().lower()
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
                continue
            except ValueError:
                pass
            if item.startswith("*."):
                self.suffixes.append(item[1:])
            else:
                self.names.add(item)

    @property
    def restricted(self) -> bool:
        return bool(self.names or self.suffixes or self.networks)

    def _listed_name(self, host: str) -> bool:
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def _listed_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in net for net in self.networks) or str(address) in self.names

    def check(self, url: object) -> str:
        """``url`` if a webhook may be sent there; else ``InvalidParameter`` saying why."""
        if not isinstance(url, str) or not url or len(url) > 2048:
            raise _refused(url, "give an http(s) URL of at most 2048 characters")
        if any(ord(c) < 33 or c == "\\" for c in url):
            raise _refused(url, "it contains spaces, control characters or backslashes")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise _refused(url, "only http and https URLs can receive webhooks")
        if parts.username is not None or parts.password is not None:
            raise _refused(url, "put credentials in the webhook secret, not in the URL")
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise _refused(url, "it names no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise _refused(url, "its port is not a number between 0 and 65535") from None
        literal = _literal_address(host)
        explicitly = self._listed_name(host) or (
            literal is not None and self._listed_address(literal)
        )
        if self.restricted and not explicitly:
            raise _refused(url, "its host is not in the server's webhook allowlist")
        for address in [literal] if literal is not None else _resolve(url, host, port):
            reason = _internal(address)
            if reason and not (explicitly or self._listed_address(address)):
                raise _refused(
                    url,
                    f"{host} is {reason}; the operator must allow it explicitly "
                    "(MLTRAIL_WEBHOOK_ALLOWED_HOSTS)",
                )
        return url


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # legacy spellings libraries still resolve: 2130706433, 0x7f.1, 127.1
        return ipaddress.ip_address(socket.inet_aton(host))
    except OSError:
        return None


def _resolve(url: str, host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise _refused(url, f"the host {host} does not resolve") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_loopback or address.is_unspecified:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local (cloud metadata) address"
    if address.is_private or address.is_reserved or address.is_multicast:
        return "a private or reserved address"
    return None


def _refused(url: object, why: str) -> InvalidParameter:
    shown = str(url)[:200]
    return InvalidParameter(f"Invalid webhook URL {shown!r}: {why}.")


# -- signing and sending ------------------------------------------------------------------------


def signature(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    digest = hmac.new(
        secret.encode("utf-8"), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def deliver(
    hook: Webhook, event: str, data: dict[str, Any], policy: WebhookUrlPolicy
) -> WebhookTestResult:
    """POST one event to one webhook, retrying connection failures and 5xx/429 answers with
    backoff; the last answer (or error) as the result."""
    import requests

    entity, action = event.split(".", 1)
    body = json.dumps(
        {
            "entity": entity,
            "action": action,
            "timestamp": datetime.now(UTC).isoformat(),
            "data": data,
        }
    )
    delivery_id = str(uuid.uuid4())
    result = WebhookTestResult(False, error_message="not sent")
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            policy.check(hook.url)  # again: the name may resolve elsewhere now
        except InvalidParameter as exc:
            return WebhookTestResult(False, error_message=exc.message)
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-MLflow-Delivery-Id": delivery_id,
            "X-MLflow-Timestamp": stamp,
        }
        if hook.secret:
            headers["X-MLflow-Signature"] = signature(hook.secret, delivery_id, stamp, body)
        try:
            answer = requests.post(
                hook.url,
                data=body.encode("utf-8"),
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            result = WebhookTestResult(False, error_message=f"{type(exc).__name__}: {exc}")
            continue
        result = WebhookTestResult(
            200 <= answer.status_code < 300, answer.status_code, answer.text[:2000] or None
        )
        if answer.status_code not in RETRY_STATUSES:
            return result
    return result


class WebhookDispatcher:
    """What the registry routes call after a successful write: find the active webhooks that
    asked for the event and deliver to each on a small thread pool (the request does not
    wait for them)."""

    def __init__(self, store: Any, policy: WebhookUrlPolicy, workers: int = 4) -> None:
        self.store = store
        self.policy = policy
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")

    def emit(self, event: str, data: dict[str, Any]) -> None:
        try:
            hooks = self.store.active_for(event)
        except Exception:  # noqa: BLE001 - an event must never fail the write it reports
            _log.exception("Could not read the webhooks for %s", event)
            return
        for hook in hooks:
            self._pool.submit(self._send, hook, event, data)

    def _send(self, hook: Webhook, event: str, data: dict[str, Any]) -> None:
        result = deliver(hook, event, data, self.policy)
        if not result.success:
            _log.warning(
                "Webhook %s (%s) for %s failed: %s",
                hook.name,
                hook.webhook_id,
                event,
                result.error_message or f"HTTP {result.response_status}",
            )

    def close(self) -> None:
        self._pool.shutdown(wait=True)


# Example data for test deliveries, one per event.
EXAMPLES: dict[str, dict[str, Any]] = {
    "registered_model.created": {"name": "example-model", "tags": {}, "description": None},
    "model_version.created": {
        "name": "example-model",
        "version": "1",
        "source": "models:/m-example",
        "run_id": None,
        "tags": {},
        "description": None,
    },  # fmt: skip
    "model_version_tag.set": {"name": "example-model", "version": "1", "key": "k", "value": "v"},
    "model_version_tag.deleted": {"name": "example-model", "version": "1", "key": "k"},
    "model_version_alias.created": {"name": "example-model", "alias": "champion", "version": "1"},
    "model_version_alias.deleted": {"name": "example-model", "alias": "champion"},
}
