"""Page tokens: base64 of the JSON ``{"offset": N}``, byte for byte what MLflow sends, so a
token from either server reads the same.

A search asks for ``max_results + 1`` rows from ``offset`` and returns
``encode_page_token(offset + max_results)`` only when that extra row came back.
"""

from __future__ import annotations

import base64
import binascii
import json

from mltrail.exceptions import InvalidParameter


def encode_page_token(offset: int) -> str:
    """The token for the page that starts at ``offset``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def decode_page_token(token: str | None) -> int:
    """The offset a token stands for; 0 when there is no token."""
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
    return offset
