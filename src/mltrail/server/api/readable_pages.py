"""Full pages of a search whose results are filtered after the query (``--auth``: only what the
caller may read is listed).

``readable_page`` reads store pages until it holds one readable item more than the page needs
(proof that more remain), the store runs out, or it has made ``MAX_STORE_PAGES`` reads or read
``MAX_SCAN_ROWS`` rows (the first page is read whole, however large). The page token it
returns points just before the first readable item it did not return, so across pages nothing
readable is skipped or repeated. A page is short, or has a token with nothing readable after
it, only when one of those limits was hit.

The first read asks for ``max_results`` rows; later ones for about as many rows as the share
of readable rows seen so far says are needed (at most ``max_results``; at least 2, 4, 8, ...
on the second, third, fourth read), so a caller who may read nearly everything pays a read of
a few rows to see that more remain, not a second full page.

Store tokens stay opaque: to cut a store page in the middle, the page is read again from its
own start token with ``max_results`` set to the cut, whose token then marks that position
(one small extra query per returned page at most).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mltrail.entities import PagedList

# How many store reads (of max_results rows at most) one request makes, besides the one that
# cuts a page, and how many rows it reads once past its first page. A caller who may read little
# of a large registry gets a short (even empty) page with a token that continues the scan,
# rather than one request that reads the whole registry.
MAX_STORE_PAGES = 10
MAX_SCAN_ROWS = 100_000


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
    size, rows = max_results, 0
    for reads in range(1, MAX_STORE_PAGES + 1):
        page = fetch(size, start)
        for index, item in enumerate(page):
            if not keep(item):
                continue
            if len(kept) == max_results:  # one more than fits: cut just before it
                return PagedList(kept, _token_at(fetch, start, index))
            kept.append(item)
        if page.token is None:
            return PagedList(kept)
        start, rows = page.token, rows + len(page)
        if rows >= MAX_SCAN_ROWS:
            break
        size = _next_size(max_results + 1 - len(kept), rows, len(kept), max_results, reads)
        size = min(size, MAX_SCAN_ROWS - rows)
    return PagedList(kept, start)  # read limit: the token continues after the rows read


def _next_size(wanted: int, rows: int, kept: int, max_results: int, reads: int) -> int:
    """Rows to ask for next: ``wanted`` readable items at the share seen so far (with room to
    spare), at least ``2 ** reads``, at most ``max_results``."""
    guess = math.ceil(1.5 * wanted * rows / max(kept, 1))
    return min(max_results, max(guess, 1 << reads))


def _token_at(
    fetch: Callable[[int, str | None], PagedList], start: str | None, index: int
) -> str | None:
    """The token of the position ``index`` rows into the store page that ``start`` begins."""
    if index == 0:
        return start
    return fetch(index, start).token
