"""Metric points packed into chunks: a stored row holds a batch of one series, not one point.

A chunk is three little-endian arrays of equal length: timestamps (int64), steps (int64) and
values (float64, NaN and infinities kept as they are). Its points are sorted by
(timestamp, step, value), the order a history is read in, and identical points are dropped,
as MLflow stores an identical point once. A history is its chunks merged: when each chunk
starts after the previous one ends (a training loop's usual case) that is a concatenation,
otherwise one sort.

Why: a point costs a row insert of about 2 µs in SQLite and a row fetch on every read; packed,
20,000 points are one insert and one fetch, and a history decodes at memory speed.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence
from itertools import islice
from operator import le, lt
from typing import Any

# Columns of one series: timestamps, steps, values (same length).
Columns = tuple[list[int], list[int], list[float]]

# Most points one chunk holds: 2.4 MB, well under MySQL's default packet limit.
MAX_CHUNK_POINTS = 100_000

_BIG_ENDIAN = sys.byteorder == "big"
_INT, _FLOAT = struct.Struct("<q"), struct.Struct("<d")
_ONE_POINT = struct.Struct("<qqd")  # a chunk of one point, packed at once


def encode(timestamps: Sequence[int], steps: Sequence[int], values: Sequence[float]) -> bytes:
    """The bytes of one chunk (columns already sorted and free of duplicates)."""
    if len(timestamps) == 1:
        return _ONE_POINT.pack(timestamps[0], steps[0], values[0])
    parts = (array("q", timestamps), array("q", steps), array("d", values))
    if _BIG_ENDIAN:
        for part in parts:
            part.byteswap()
    return b"".join(part.tobytes() for part in parts)


def decode(data: bytes, points: int) -> Columns:
    """The columns of a chunk of ``points`` points."""
    width = points * 8
    data = bytes(data)  # some drivers hand out memoryviews
    if len(data) != 3 * width:
        raise ValueError(f"A metric chunk of {points} points must be {3 * width} bytes.")
    timestamps, steps, values = array("q"), array("q"), array("d")
    timestamps.frombytes(data[:width])
    steps.frombytes(data[width : 2 * width])
    values.frombytes(data[2 * width :])
    if _BIG_ENDIAN:
        for part in (timestamps, steps, values):
            part.byteswap()
    return timestamps.tolist(), steps.tolist(), values.tolist()


def decode_arrays(data: bytes, points: int) -> tuple[Any, Any, Any]:
    """The columns of a chunk as NumPy arrays over its bytes (no copy, no Python objects)."""
    import numpy as np

    width = points * 8
    if len(data) != 3 * width:
        raise ValueError(f"A metric chunk of {points} points must be {3 * width} bytes.")
    return (
        np.frombuffer(data, dtype="<i8", count=points),
        np.frombuffer(data, dtype="<i8", count=points, offset=width),
        np.frombuffer(data, dtype="<f8", count=points, offset=2 * width),
    )


def _ends(data: bytes, points: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The order keys of a chunk's first and last points, read without decoding the rest."""
    width = points * 8
    last = (points - 1) * 8

    def point(at: int) -> tuple[int, int, float]:
        (ts,) = _INT.unpack_from(data, at)
        (step,) = _INT.unpack_from(data, width + at)
        (value,) = _FLOAT.unpack_from(data, 2 * width + at)
        return ts, step, value

    return _order_key(point(0)), _order_key(point(last))


def window(chunks: Sequence[tuple[int, bytes]], offset: int, limit: int | None) -> Columns:
    """Points ``offset`` to ``offset + limit`` of a series, from its (points, data) chunks in
    chunk order. When the chunks follow one another, only those in the window are decoded, so
    paging through a million points does not decode all of them for every page."""
    chunks = [(n, bytes(data)) for n, data in chunks if n]
    ends = [_ends(data, n) for n, data in chunks]
    if not all(a[1] < b[0] for a, b in zip(ends, ends[1:], strict=False)):
        return _sliced(merged([decode(data, n) for n, data in chunks]), offset, limit)
    picked: list[Columns] = []
    first = start = 0  # the index of the first picked point; of the current chunk's first
    for n, data in chunks:
        if limit is not None and start >= offset + limit:
            break
        if start + n > offset:
            if not picked:
                first = start
            picked.append(decode(data, n))
        start += n
    if not picked:
        return [], [], []
    return _sliced(merged(picked), offset - first, limit)


def _sliced(columns: Columns, offset: int, limit: int | None) -> Columns:
    if not offset and limit is None:
        return columns
    stop = None if limit is None else offset + limit
    return tuple(c[offset:stop] for c in columns)  # type: ignore[return-value]


def _order_key(point: tuple[int, int, float]) -> tuple[int, int, bool, float]:
    # NaN compares false with everything: sort it after the real values of its step, as 0.
    ts, step, value = point
    is_nan = value != value
    return ts, step, is_nan, 0.0 if is_nan else value


def normalized(timestamps: Sequence[int], steps: Sequence[int], values: Sequence[float]) -> Columns:
    """The points sorted by (timestamp, step, value), identical ones kept once. Lists already
    in that order (a training loop's usual case) are returned as they are, not copied."""
    if _strictly_increasing(timestamps, steps):
        return _as_list(timestamps), _as_list(steps), _as_list(values)
    points = list(zip(timestamps, steps, values, strict=True))
    if all(map(lt, points, islice(points, 1, None))):  # increasing, by value at some ties
        return _as_list(timestamps), _as_list(steps), _as_list(values)
    points.sort(key=_order_key)
    kept = [points[0]] if points else []
    last = _order_key(points[0]) if points else None
    for point in islice(points, 1, None):
        key = _order_key(point)
        if key != last:
            kept.append(point)
            last = key
    if not kept:
        return [], [], []
    ts, st, vals = zip(*kept, strict=True)
    return list(ts), list(st), list(vals)


def _strictly_increasing(timestamps: Sequence[int], steps: Sequence[int]) -> bool:
    """Whether (timestamp, step) strictly increases from each point to the next, checked
    column-wise: timestamps never going down, and either they or the steps always going up.
    (A sufficient test: ``normalized`` falls back to comparing whole points.)"""
    if not all(map(le, timestamps, islice(timestamps, 1, None))):
        return False
    return all(map(lt, steps, islice(steps, 1, None))) or all(
        map(lt, timestamps, islice(timestamps, 1, None))
    )


def _as_list(column: Sequence[Any]) -> list[Any]:
    return column if isinstance(column, list) else list(column)


def merged(chunks: Sequence[Columns]) -> Columns:
    """One series from its chunks, in history order."""
    if len(chunks) == 1:
        return chunks[0]
    chunks = [c for c in chunks if c[0]]
    if not chunks:
        return [], [], []
    ascending = all(
        _order_key((a[0][-1], a[1][-1], a[2][-1])) < _order_key((b[0][0], b[1][0], b[2][0]))
        for a, b in zip(chunks, chunks[1:], strict=False)
    )
    timestamps: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    for ts, st, vals in chunks:
        timestamps += ts
        steps += st
        values += vals
    if ascending:
        return timestamps, steps, values
    return normalized(timestamps, steps, values)


def latest_index(columns: Columns) -> int:
    """The position of the series' latest point: the greatest (step, timestamp, value), NaN
    counting as 0 and the first of equals winning (MLflow's rule, pinned by the differential
    suite)."""
    timestamps, steps, values = columns
    n = len(steps)
    if n < 2 or (steps[-1] > steps[-2] and all(map(le, steps, islice(steps, 1, None)))):
        # Steps never going down, the last one alone at its step: it is the latest.
        return n - 1
    # max() keeps the first of equal keys.
    return max(range(n), key=lambda i: _latest_key(steps[i], timestamps[i], values[i]))


def _latest_key(step: int, ts: int, value: float) -> tuple[int, int, float]:
    return step, ts, 0.0 if value != value else value


def value_range(values: Sequence[float]) -> tuple[float | None, float | None]:
    """The minimum and maximum of the non-NaN values (None when all are NaN)."""
    total = sum(values)
    if total == total:  # no NaN anywhere (a NaN sum also covers inf + -inf: checked below)
        return min(values), max(values)
    reals = [x for x in values if x == x]
    return (min(reals), max(reals)) if reals else (None, None)


def split(columns: Columns, size: int = MAX_CHUNK_POINTS) -> list[Columns]:
    """Columns cut into pieces of at most ``size`` points."""
    timestamps, steps, values = columns
    if len(timestamps) <= size:
        return [columns]
    return [
        (timestamps[i : i + size], steps[i : i + size], values[i : i + size])
        for i in range(0, len(timestamps), size)
    ]
