"""Patching framework methods so that autologging can never break the user's training.

Every patch is recorded per integration so ``disable=True`` can put the original back. Errors
raised by our own logging code are turned into one warning (MLflow's wording); errors raised by
the user's code pass through untouched.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from mltrail.autologging import config

logger = logging.getLogger("mltrail.autologging")

T = TypeVar("T")
_PATCH_MARK = "__mltrail_autolog_original__"

# flavor -> [(owner, attribute name, what was there before)]
_patches: dict[str, list[tuple[Any, str, Any]]] = {}
_patch_lock = threading.Lock()


def warn_failure(flavor: str, exc: BaseException) -> None:
    if not config.get_option(flavor, "silent", False):
        logger.warning("Encountered unexpected error during %s autologging: %s", flavor, exc)


def info(flavor: str, message: str, *args: Any) -> None:
    if not config.get_option(flavor, "silent", False):
        logger.info(message, *args)


def guarded(flavor: str, action: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run one piece of our logging; a failure becomes a warning and ``None``."""
    try:
        return action(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autologging must never break training
        warn_failure(flavor, exc)
        return None


def is_patched(function: Any) -> bool:
    return hasattr(function, _PATCH_MARK)


def patch(
    flavor: str,
    owner: Any,
    name: str,
    make_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    """Replace ``owner.name`` by ``make_wrapper(original)``; idempotent per owner and name."""
    with _patch_lock:
        current = getattr(owner, name)
        if is_patched(current) and name in vars(owner):
            return
        wrapper = make_wrapper(current)
        functools.update_wrapper(wrapper, current)
        setattr(wrapper, _PATCH_MARK, current)
        before = vars(owner).get(name, _MISSING)
        setattr(owner, name, wrapper)
        _patches.setdefault(flavor, []).append((owner, name, before))


def unpatch_all(flavor: str) -> None:
    with _patch_lock:
        for owner, name, before in reversed(_patches.pop(flavor, [])):
            if before is _MISSING:
                with suppress(AttributeError):
                    delattr(owner, name)
            else:
                setattr(owner, name, before)


class _Missing:
    pass


_MISSING = _Missing()


class _Depth(threading.local):
    def __init__(self) -> None:
        self.active: set[str] = set()


_depth = _Depth()


@contextmanager
def outermost(flavor: str) -> Iterator[bool]:
    """True for the outermost patched call of ``flavor`` in this thread: the fits that a
    meta-estimator (a search, a pipeline, xgboost's sklearn API) makes inside get False and are
    not logged on their own."""
    if flavor in _depth.active:
        yield False
        return
    _depth.active.add(flavor)
    try:
        yield True
    finally:
        _depth.active.discard(flavor)


def inside(flavor: str) -> bool:
    return flavor in _depth.active
