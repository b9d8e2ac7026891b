"""``collect_pages``: the one loop that gathers a paged search (the fluent searches, the CLI
and the models page use it), over a real SQLite store with pages smaller than the results."""

from __future__ import annotations

from mltrail.entities import ViewType
from mltrail.entities.tracking import collect_pages
from mltrail.store.sql.store import SqlStore


def _store(tmp_path) -> SqlStore:
    store = SqlStore(f"sqlite:///{tmp_path / 'pages.db'}", str(tmp_path / "artifacts"))
    for i in range(5):
        store.create_experiment(f"paged-{i}")
    return store


def test_every_page_then_the_first_few(tmp_path) -> None:
    store = _store(tmp_path)
    asked: list[int] = []

    def fetch(size: int, token: str | None):
        asked.append(size)
        return store.search_experiments(ViewType.ACTIVE_ONLY, size, "name LIKE 'paged-%'",
                                        ["name ASC"], token)  # fmt: skip

    every = collect_pages(fetch, 2)
    assert [e.name for e in every] == [f"paged-{i}" for i in range(5)]
    assert asked == [2, 2, 2]

    asked.clear()
    first = collect_pages(fetch, 2, max_results=3)
    assert [e.name for e in first] == ["paged-0", "paged-1", "paged-2"]
    assert asked == [2, 1]  # the last page asks only for what is missing
