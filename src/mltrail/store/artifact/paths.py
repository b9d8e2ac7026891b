"""The one validator for relative artifact paths, run on every path that reaches storage."""

from __future__ import annotations

import posixpath
import unicodedata
from urllib.parse import unquote

from mltrail.exceptions import InvalidParameter


def safe_relative_path(path: str | None) -> str:
    """Normalize a relative artifact path, refusing anything that could leave its root.

    Decodes percent-escapes repeatedly (double encoding), normalizes Unicode and backslashes
    first, so that no spelling of ``..`` or of an absolute path gets through. Returns ``""``
    for the root.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidParameter(f"Invalid artifact path {path!r}.")
    decoded = path
    for _ in range(5):
        again = unquote(decoded)
        if again == decoded:
            break
        decoded = again
    decoded = unicodedata.normalize("NFKC", decoded).replace("\\", "/")
    if "\x00" in decoded:
        raise InvalidParameter("Invalid artifact path: it contains a NUL character.")
    if decoded.startswith("/") or (len(decoded) > 1 and decoded[1] == ":"):
        raise InvalidParameter(f"Invalid artifact path {path!r}: it must be relative.")
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidParameter(f"Invalid artifact path {path!r}: '..' is not allowed.")
    return posixpath.join(*parts) if parts else ""


def join(*parts: str | None) -> str:
    """Join relative artifact paths, skipping empty parts."""
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""
