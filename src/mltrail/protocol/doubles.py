"""NaN and infinities on the wire. JSON has no spelling for them, so MLflow's protocol (like
protobuf's JSON mapping) sends the strings "NaN", "Infinity" and "-Infinity"; both the server's
answers and ``RestStore``'s requests go through this one codec."""

from __future__ import annotations

import math

NAN = "NaN"
INFINITY = "Infinity"
NEGATIVE_INFINITY = "-Infinity"


def encode_double(value: float) -> float | str:
    """A float as it travels: itself if finite, else its string spelling."""
    if math.isfinite(value):
        return value
    if value != value:
        return NAN
    return INFINITY if value > 0 else NEGATIVE_INFINITY


def decode_double(value: float | int | str) -> float:
    """A float from the wire: a number, or a numeric string ("NaN", "Infinity", "-Infinity",
    "1.5"), as ``float()`` reads them."""
    return float(value)
