"""Checked metric points as the client's write buffer hands them to a store.

A point is a ``PointRow``: (key, value, timestamp, step), already checked by the client. A
batch of them may come as ``PointColumns``: the same points as four parallel lists, which the
buffer makes with a few C-level passes and no object per point (a flush moves tens of
thousands of points beside the user's training loop). ``PointColumns`` is also a sequence of
rows, so a store that wants rows can iterate it as it would a list of tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, overload

PointRow = tuple[str, float, int, int]

_COLUMN_OF = tuple(itemgetter(i) for i in range(4))


class PointColumns(Sequence[PointRow]):
    __slots__ = ("keys", "steps", "timestamps", "values")

    def __init__(
        self, keys: list[str], values: list[float], timestamps: list[int], steps: list[int]
    ) -> None:
        if not len(keys) == len(values) == len(timestamps) == len(steps):
            raise ValueError("The columns of a point batch must have one length.")
        self.keys, self.values, self.timestamps, self.steps = keys, values, timestamps, steps

    @classmethod
    def of(cls, points: Sequence[PointRow]) -> PointColumns:
        """The columns of ``points`` (returned as they are if they already are columns)."""
        if isinstance(points, PointColumns):
            return points
        key, value, timestamp, step = _COLUMN_OF
        return cls(
            list(map(key, points)),
            list(map(value, points)),
            list(map(timestamp, points)),
            list(map(step, points)),
        )

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> PointRow: ...
    @overload
    def __getitem__(self, index: slice) -> PointColumns: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return PointColumns(
                self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
            )
        return self.keys[index], self.values[index], self.timestamps[index], self.steps[index]

    def __iter__(self) -> Iterator[PointRow]:
        return zip(self.keys, self.values, self.timestamps, self.steps, strict=True)

    def __repr__(self) -> str:
        return f"PointColumns({len(self)} points)"
