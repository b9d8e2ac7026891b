"""Page tokens: base64 of the JSON ``{"offset": N}``, byte for byte what MLflow sends, so a
token from either server reads the same.

A search asks for ``max_results + 1`` rows from ``offset`` and returns
``next_page_token(offset, max_results, rows_read)``: the token of the page at
``offset + max_results`` when that extra row came back, else None.

A search whose token must not page another search (logged models, as MLflow's) passes its
``fingerprint`` as ``search``: the token then carries it, ``{"offset": N, "search": "..."}``,
and decoding refuses a token that carries another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from mltrail.exceptions import InvalidParameter


def encode_page_token(offset: int, search: str | None = None) -> str:
    """The token for the page that starts at ``offset`` (of the search ``search``, if given)."""
    data: dict[str, object] = {"offset": offset}
    if search is not None:
        data["search"] = search
    return base64.b64encode(json.dumps(data).encode("utf-8")).decode("ascii")


def next_page_token(
    offset: int, max_results: int, rows_read: int, search: str | None = None
) -> str | None:
    """The token of the next page, when reading ``max_results + 1`` rows got the extra one."""
    if rows_read > max_results:
        return encode_page_token(offset + max_results, search)
    return None


def decode_page_token(token: str | None, search: str | None = None) -> int:
    """The offset a token stands for; 0 when there is no token. With ``search``, a token
    made for another search (or for none) is refused."""
    if token is None or token == "":
        return 0
    try:
        data = json.loads(base64.b64decode(token, validate=True))
    except (TypeError, ValueError, binascii.Error):  # JSON and UTF-8 errors are ValueErrors
        data = None
    offset = data.get("offset") if isinstance(data, dict) else None
    if type(offset) is not int or offset < 0:  # bool is an int subclass: refuse it too
        shown = token if len(str(token)) <= 80 else f"{str(token)[:80]}..."
        raise InvalidParameter(
            f"Invalid page token {shown!r}: pass back the next_page_token of an earlier "
            "search unchanged, or no token for the first page."
        )
    if search is not None and data.get("search") != search:
        raise InvalidParameter(
            "The page token belongs to another search: pass the same experiments, filter, "
            "datasets and order as the search that returned it."
        )
    return offset


def fingerprint(*parts: object) -> str:
    """A short digest of what a search asks for (its arguments, as JSON-able values)."""
    return hashlib.sha256(json.dumps(list(parts)).encode("utf-8")).hexdigest()[:16]
