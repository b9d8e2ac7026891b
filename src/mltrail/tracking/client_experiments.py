"""The experiment part of ``TrailClient``: create, read, search, delete and restore
experiments, and their tags (exposed on the client by ``utils.parts.part_method``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from mltrail.entities import Experiment, ExperimentTag, PagedList, ViewType
from mltrail.store.base import SEARCH_MAX_RESULTS_DEFAULT
from mltrail.tracking.store_session import StoreSession
from mltrail.utils.parts import part_method

_P = ParamSpec("_P")
_R = TypeVar("_R")


class ExperimentCalls:
    """One client's experiment calls, over its store's session (deleting an experiment
    writes what is buffered first and forgets the runs known to exist)."""

    def __init__(self, session: StoreSession) -> None:
        self._session = session
        self._store = session.store

    def create_experiment(
        self, /, name: str, artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:  # fmt: skip
        exp_tags = [ExperimentTag(k, str(val)) for k, val in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, exp_tags)

    def get_experiment(self, /, experiment_id: str) -> Experiment:
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, /, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        /,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self._store.search_experiments(
            ViewType.normalize(view_type), max_results, filter_string, order_by, page_token
        )

    def delete_experiment(self, /, experiment_id: str) -> None:
        self._session.buffer.flush()
        self._store.delete_experiment(str(experiment_id))
        self._session.known_runs.clear()  # its runs are deleted with it

    def restore_experiment(self, /, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    def rename_experiment(self, /, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, /, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, /, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(str(experiment_id), key)


def experiment_method(
    method: Callable[Concatenate[ExperimentCalls, _P], _R],
) -> Callable[Concatenate[Any, _P], _R]:
    """``method`` as a method of ``TrailClient``, run on its ``ExperimentCalls`` part."""
    return part_method("_experiments", method)
