"""The short way for plain JSON calls to a tracking server: straight to urllib3's pool.

``requests`` spends more CPU on a small call than a small search takes on the server:
preparing the request, merging cookies and settings, building the response. ``HttpClient``
sends its plain calls here instead: ``http://`` URLs, no proxy, no .netrc credentials, a
body of bytes or none, the whole answer read at once. Everything else (HTTPS, proxies,
uploads, streamed downloads, redirects) goes through ``requests`` as before. The answer is a
real ``requests.Response``, and failures are raised as ``requests``' own errors, so callers
and the retry loop see no difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, requote_uri

# What requests sends besides the caller's headers (servers may answer gzip to it).
_DEFAULT_HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*"}


class Redirected(Exception):
    """The server answered with a redirect: the caller sends the request through requests."""


def plain_request(
    pool: urllib3.PoolManager,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: tuple[float, float],
) -> requests.Response:
    """One request through ``pool``, answered as ``requests`` would answer it."""
    url = requote_uri(url)
    if params:
        query = urlencode(_query_pairs(params), doseq=True)
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{query}"
    try:
        raw = pool.urlopen(
            method,
            url,
            body=body,
            headers={**_DEFAULT_HEADERS, **headers},
            retries=False,
            redirect=False,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            preload_content=True,
        )
    except urllib3.exceptions.NewConnectionError as exc:
        raise requests.ConnectionError(exc) from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise requests.Timeout(exc) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.ConnectionError(exc) from exc
    if 300 <= raw.status < 400 and raw.headers.get("Location"):
        raise Redirected
    response = requests.Response()
    response.status_code = raw.status
    response.headers = CaseInsensitiveDict(raw.headers)
    response._content = raw.data
    response.raw = raw
    response.url = url
    response.reason = raw.reason or ""
    response.encoding = get_encoding_from_headers(response.headers)
    return response


def _query_pairs(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The query as requests builds it: a list value repeats its key, None values are left
    out."""
    pairs: list[tuple[str, Any]] = []
    for key, values in params.items():
        items = values if isinstance(values, list | tuple) else [values]
        pairs += [(key, value) for value in items if value is not None]
    return pairs
