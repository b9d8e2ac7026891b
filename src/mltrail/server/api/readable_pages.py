"""Full pages of a search whose results are filtered after the query (``--auth``: only what the
caller may read is listed).

``readable_page`` reads store pages of ``max_results`` rows until it holds one readable item
more than the page needs (proof that more remain), the store runs out, or it has read
``MAX_STORE_PAGES`` pages. The page token it returns points just before the first readable
item it did not return, so across pages nothing readable is skipped or repeated, and a page
is short only at the end of the listing or when the scan limit was hit.

Store tokens stay opaque: to cut a store page in the middle, the page is read again from its
own start token with ``max_results`` set to the cut, whose token then marks that position
(one small extra query per returned page at most).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mltrail.entities import PagedList

# How many store pages (of max_results rows each) one request reads at most. A caller who may
# read little of a large registry gets a short (even empty) page with a token that continues
# the scan, rather than one request that reads the whole registry.
MAX_STORE_PAGES = 10


def readable_page(
    fetch: Callable[[int, str | None], PagedList],
    keep: Callable[[Any], bool],
    max_results: int,
    token: str | None,
) -> PagedList:
    """Up to ``max_results`` items that ``keep`` accepts, in the store's order, from the page
    ``token`` starts; ``fetch(size, token)`` reads one store page."""
    kept: list[Any] = []
    start = token  # where the page read last began
    for _ in range(MAX_STORE_PAGES):
        page = fetch(max_results, start)
        for index, item in enumerate(page):
            if not keep(item):
                continue
            if len(kept) == max_results:  # one more than fits: cut just before it
                return PagedList(kept, _token_at(fetch, start, index))
            kept.append(item)
        if page.token is None:
            return PagedList(kept)
        start = page.token
    return PagedList(kept, start)  # scan limit: the token continues after the rows read


def _token_at(
    fetch: Callable[[int, str | None], PagedList], start: str | None, index: int
) -> str | None:
    """The token of the position ``index`` rows into the store page that ``start`` begins."""
    if index == 0:
        return start
    return fetch(index, start).token
