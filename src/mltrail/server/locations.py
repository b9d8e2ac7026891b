"""The server decides where artifacts live: checks on storage URIs that clients send.

A client may *suggest* a location (``experiments/create``'s ``artifact_location``, a model
version's ``source``, a dataset's source), but the server stores only locations inside the
operator's allowlist, by default the server's own artifact root reached through the proxy
(``mlflow-artifacts:/``) and the configured default artifact root. MLflow's history is a chain
of bypasses of edge checks (``%2e%2e``, ``#fragment``, ``;params``, ``user@host`` spoofs,
``file://`` with a host, cloud metadata addresses), so every URI here goes through one parse:

1. plain text only: no control characters, no percent-escapes, no Unicode compatibility
   characters (a location must read the same before and after decoding and NFKC), no ``\\``,
   ``#``, ``?`` or ``;``;
2. split into scheme, host and path; a host may carry no userinfo, and ``mlflow-artifacts``
   and ``file`` URIs no host at all (the client would be sent to another server);
3. the path may hold no ``..``, ``.`` or empty segment;
4. the result must lie under an allowlist entry: same scheme, same host, and a path equal to
   or below the entry's, on a segment boundary (local folders compared after resolving
   symlinks).

``ArtifactLocationPolicy.check`` is the function to call from any route that stores a URI the
server or other clients may later read from. ``check_reference_uri`` is the lighter check for
references the server never opens (dataset sources): they may point anywhere public, but not at
private, loopback, link-local or metadata addresses, nor carry the tricks above.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from mltrail.exceptions import InvalidParameter

MAX_LOCATION_LENGTH = 2048  # MLflow's MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH
PROXY_ROOT = "mlflow-artifacts:/"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_FORBIDDEN_CHARS = ("\\", "#", "?", ";")
# Schemes whose URIs must not name a host: the host part would send clients elsewhere.
_HOSTLESS = frozenset({"file", "mlflow-artifacts"})
# Names that reach the machine itself or a cloud's instance metadata service.
_BLOCKED_NAMES = re.compile(
    r"^(localhost|.*\.localhost|metadata|metadata\.google\.internal|instance-data"
    r"|instance-data\.ec2\.internal|metadata\.azure\.com)$"
)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")
)


@dataclass(frozen=True)
class Location:
    """A storage URI split into its parts, after the plain-text and traversal checks."""

    scheme: str  # lower case; "file" for absolute local paths
    host: str  # lower case, "" when none
    path: str  # "/"-separated; no "..", "." or empty segments; no trailing "/" but the root

    def uri(self) -> str:
        if self.scheme == "file":
            return self.path
        if self.scheme == "mlflow-artifacts":
            return f"mlflow-artifacts:{self.path}"
        return f"{self.scheme}://{self.host}{self.path}"

    def is_within(self, root: Location) -> bool:
        if (self.scheme, self.host) != (root.scheme, root.host):
            return False
        mine, theirs = self.path, root.path
        if self.scheme == "file":
            mine, theirs = os.path.realpath(mine), os.path.realpath(theirs)
        return mine == theirs or mine.startswith(theirs.rstrip("/") + "/")


def _refuse(what: str, uri: object, why: str) -> InvalidParameter:
    shown = repr(uri) if len(repr(uri)) <= 120 else repr(uri)[:117] + "..."
    return InvalidParameter(f"Invalid {what} {shown}: {why}.")


def _plain_text(uri: str, what: str) -> None:
    if not uri:
        raise _refuse(what, uri, "it is empty")
    if len(uri) > MAX_LOCATION_LENGTH:
        raise _refuse(what, uri, f"it is longer than {MAX_LOCATION_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in uri):
        raise _refuse(what, uri, "it contains control characters")
    decoded = uri
    for _ in range(5):  # double and triple encoding: decode to a fixed point
        again = unquote(decoded)
        if again == decoded:
            break
        decoded = again
    if unicodedata.normalize("NFKC", decoded) != uri:
        raise _refuse(
            what, uri, "write it plainly, without percent-escapes or look-alike Unicode characters"
        )
    for char in _FORBIDDEN_CHARS:
        if char in uri:
            raise _refuse(what, uri, f"{char!r} is not allowed in a storage location")


def parse_location(uri: object, what: str = "artifact location") -> Location:
    """Split ``uri`` into a :class:`Location`, refusing every trick listed in the module doc."""
    if not isinstance(uri, str):
        raise _refuse(what, uri, "it must be a string")
    _plain_text(uri, what)
    match = _SCHEME.match(uri)
    if match is None:
        if not uri.startswith("/"):
            raise _refuse(what, uri, "give an absolute path or a URI such as s3://bucket/path")
        scheme, host, path = "file", "", uri
    else:
        scheme = match.group(1).lower()
        if len(scheme) == 1:
            raise _refuse(what, uri, "Windows drive letters are not storage locations")
        rest = uri[match.end() :]
        if rest.startswith("//"):
            host, slash, tail = rest[2:].partition("/")
            path = slash + tail
        else:
            host, path = "", rest
        if "@" in host:
            raise _refuse(what, uri, "user names or passwords in a location are not allowed")
        host = host.lower()
        if scheme == "file" and host == "localhost":
            host = ""
        if scheme in _HOSTLESS and host:
            raise _refuse(what, uri, f"a {scheme}: location may not name a host")
        if scheme not in _HOSTLESS and not host:
            raise _refuse(what, uri, f"a {scheme}: location needs a host or bucket name")
        path = path or "/"
        if not path.startswith("/"):
            raise _refuse(what, uri, "the path part must start with '/'")
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is fine
    for segment in segments:
        if segment in ("", ".", ".."):
            raise _refuse(what, uri, "'..', '.' and empty path segments are not allowed")
    return Location(scheme, host, "/" + "/".join(segments))


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` spells, including legacy forms (``2852039166``, ``0xa9.0376..``)
    that libraries resolve although they are not dotted quads."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-Fx.]+", name):
        try:
            return ipaddress.ip_address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def internal_host_reason(host: str) -> str | None:
    """Why ``host`` must not be reached on a client's say-so, or ``None`` if it may be."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    if _BLOCKED_NAMES.match(name.rstrip(".")):
        return "it names this machine or a cloud metadata service"
    address = _address(host)
    if address is None:
        return None
    if address in _METADATA_ADDRESSES or address.is_link_local:
        return "it is a link-local or cloud metadata address"
    if address.is_loopback or address.is_unspecified:
        return "it is a loopback address"
    if address.is_private or address.is_reserved or address.is_multicast:
        return "it is a private or reserved address"
    return None


class ArtifactLocationPolicy:
    """Where clients may ask the server to keep artifacts: a list of allowed roots."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.roots = [parse_location(root, "allowed artifact location") for root in allowed]

    @classmethod
    def default_roots(cls, default_artifact_root: str, serve_artifacts: bool) -> list[str]:
        """The server's artifact root through the proxy, and the configured default root."""
        roots = [PROXY_ROOT] if serve_artifacts else []
        if default_artifact_root and default_artifact_root.rstrip("/") != "mlflow-artifacts:":
            roots.append(default_artifact_root)
        return roots

    def check(self, uri: object, what: str = "artifact location") -> str:
        """The location to store for ``uri`` (canonical spelling), or a 400 saying why not."""
        location = parse_location(uri, what)
        if not any(location.is_within(root) for root in self.roots):
            if location.host and (reason := internal_host_reason(location.host)):
                raise _refuse(what, uri, reason)
            allowed = ", ".join(root.uri() for root in self.roots) or "none"
            raise _refuse(
                what,
                uri,
                f"this server keeps artifacts only under {allowed} (leave it out to use the "
                "server's default, or ask the operator to add it to --allowed-artifact-locations)",
            )
        return location.uri()

    def allows(self, uri: object) -> bool:
        try:
            self.check(uri)
        except InvalidParameter:
            return False
        return True


def check_reference_uri(uri: object, what: str = "dataset source") -> str:
    """A URI the server stores but never opens (a dataset's origin). It may point at any
    public place or at a path on the client's machine, but it must not aim other tools that
    trust this server at internal addresses, nor carry traversal, userinfo or encoding
    tricks. Returns ``uri`` unchanged."""
    location = parse_location(uri, what)
    if location.host and (reason := internal_host_reason(location.host)):
        raise _refuse(what, uri, reason)
    return uri  # type: ignore[return-value]


def check_source_uri(
    policy: ArtifactLocationPolicy, uri: object, what: str = "model version source"
) -> str:
    """For the registry: a model version ``source`` is ``runs:/<run_id>/<path>``,
    ``models:/...`` or a location the policy allows. Returns the source to store."""
    if isinstance(uri, str) and uri.startswith(("runs:/", "models:/")):
        _plain_text(uri, what)
        tail = uri.split(":/", 1)[1]
        if any(seg in (".", "..") for seg in tail.split("/")):
            raise _refuse(what, uri, "'..' and '.' path segments are not allowed")
        return uri
    return policy.check(uri, what)


_NETWORK_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_URI_KEYS = ("uri", "url")


def check_dataset_source(policy: ArtifactLocationPolicy, source: str) -> None:
    """A dataset's ``source`` (MLflow sends a JSON object such as ``{"uri": "s3://..."}``).

    URIs into this server's storage (``mlflow-artifacts:``) must be inside the allowlist;
    network URIs must pass :func:`check_reference_uri`. Paths on the client's machine, code
    references and hub names are descriptions the server never opens, and are kept as sent.
    """
    import json

    try:
        parsed = json.loads(source)
    except ValueError:
        parsed = source
    if isinstance(parsed, dict):
        candidates = [parsed[k] for k in _URI_KEYS if isinstance(parsed.get(k), str)]
    else:
        candidates = [parsed] if isinstance(parsed, str) else []
    for uri in candidates:
        if uri.lower().startswith("mlflow-artifacts:"):
            policy.check(uri, "dataset source")
        elif _NETWORK_URI.match(uri) and not uri.lower().startswith("file:"):
            check_reference_uri(uri, "dataset source")
