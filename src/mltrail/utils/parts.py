"""Composition from per-resource parts without mixins: each part is an object the owner holds
(``TrailClient._registry``, ``SqlStore.runs``...), and ``part_method`` makes one of the part's
methods a method of the owner, with the same name, arguments, return value and docstring (a
class attribute, so type checkers and ``help()`` see it, and the signature is written once,
on the part)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Part = TypeVar("_Part")


def part_method(
    part: str, method: Callable[Concatenate[_Part, _P], _R]
) -> Callable[Concatenate[Any, _P], _R]:
    """``method`` of the part held in the owner's attribute ``part``, as an owner method.
    (The owner is passed positionally only, so keyword arguments pass through.)"""

    @functools.wraps(method)
    def call(owner: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(getattr(owner, part), *args, **kwargs)

    return call
