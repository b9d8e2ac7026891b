"""``readable_page``: full pages of a filtered, paged listing, over a store of offset-token
pages (the SQL stores' own tokens), for many page sizes and readable subsets."""

from __future__ import annotations

import random

import pytest

from mltrail.entities import PagedList
from mltrail.search import paging
from mltrail.server.api import readable_pages
from mltrail.server.api.readable_pages import MAX_STORE_PAGES, readable_page


class ListStore:
    """Pages of a list, as the SQL stores page: offset tokens, ``max_results + 1`` rows read."""

    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.reads = self.rows = 0  # store reads, and the rows they returned

    def fetch(self, size: int, token: str | None) -> PagedList:
        assert size > 0
        self.reads += 1
        offset = paging.decode_page_token(token)
        rows = self.items[offset : offset + size + 1]
        self.rows += len(rows[:size])
        return PagedList(rows[:size], paging.next_page_token(offset, size, len(rows)))


def page_through(store: ListStore, readable: set[int], size: int) -> list[PagedList]:
    """Every page, as a client follows the tokens; a page short of ``size`` that is not the
    last must be one where the scan limit was hit."""
    pages: list[PagedList] = []
    token: str | None = None
    while True:
        store.reads = store.rows = 0
        page = readable_page(store.fetch, readable.__contains__, size, token)
        assert len(page) <= size
        assert store.reads <= MAX_STORE_PAGES + 1  # the scan is bounded
        if page.token is not None and len(page) < size:
            assert store.reads == MAX_STORE_PAGES or store.rows >= readable_pages.MAX_SCAN_ROWS
        pages.append(page)
        if page.token is None:
            return pages
        assert len(pages) < 1000, "the listing does not end"
        token = page.token


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 25, 100])
@pytest.mark.parametrize("density", [0.0, 0.05, 0.3, 0.7, 1.0])
def test_pages_are_full_and_the_listing_is_exact(size: int, density: float) -> None:
    rng = random.Random(f"{size}-{density}")
    items = list(range(60))
    readable = {i for i in items if rng.random() < density}
    store = ListStore(items)
    pages = page_through(store, readable, size)
    listed = [item for page in pages for item in page]
    assert listed == sorted(readable)  # in order, none skipped, none repeated
    if readable and size * MAX_STORE_PAGES >= len(items):  # one request may scan them all
        assert all(len(page) == size for page in pages[:-1])
        assert len(pages) == -(-len(readable) // size)  # no empty page after the last item
    if not readable and size * MAX_STORE_PAGES >= len(items):
        assert pages == [[]]  # one empty page, no token


def test_a_full_page_gets_a_token_only_when_more_is_readable() -> None:
    items = list(range(20))
    store = ListStore(items)
    assert readable_page(store.fetch, {3, 5, 8}.__contains__, 3, None).token is None
    page = readable_page(store.fetch, {3, 5, 8, 19}.__contains__, 3, None)
    assert list(page) == [3, 5, 8] and page.token is not None
    rest = readable_page(store.fetch, {3, 5, 8, 19}.__contains__, 3, page.token)
    assert list(rest) == [19] and rest.token is None


def test_a_caller_who_reads_nothing_cannot_make_one_request_scan_everything() -> None:
    items = list(range(10 * MAX_STORE_PAGES * 3))
    store = ListStore(items)
    page = readable_page(store.fetch, lambda item: item == items[-1], 10, None)
    assert list(page) == [] and store.reads == MAX_STORE_PAGES
    assert paging.decode_page_token(page.token) == 10 * MAX_STORE_PAGES  # after the rows read
    pages = page_through(store, {items[-1]}, 10)
    assert [list(p) for p in pages] == [[], [], [items[-1]]]


def test_dense_readers_pay_a_small_lookahead_read() -> None:
    store = ListStore(list(range(500)))
    page = readable_page(store.fetch, lambda item: True, 100, None)
    assert list(page) == list(range(100)) and paging.decode_page_token(page.token) == 100
    # The page, then a read of a few rows to see that more is readable: not a second page.
    assert store.reads == 2 and store.rows <= 100 + 2
    store = ListStore(list(range(500)))
    page = readable_page(store.fetch, lambda item: item != 7, 100, None)  # one hidden
    assert list(page) == [i for i in range(101) if i != 7]
    assert paging.decode_page_token(page.token) == 101
    assert store.rows <= 100 + 2 * 3  # two small reads (one of them the cut), not two pages


def test_the_rows_one_request_reads_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readable_pages, "MAX_SCAN_ROWS", 25)
    store = ListStore(list(range(100)))
    page = readable_page(store.fetch, lambda item: item == 99, 10, None)
    assert list(page) == [] and store.rows == 25
    assert paging.decode_page_token(page.token) == 25
    pages = page_through(store, {99}, 10)
    assert [list(p) for p in pages] == [[], [], [], [99]]
