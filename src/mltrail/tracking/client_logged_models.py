"""The logged-model part of ``TrailClient`` (MLflow 3's ``LoggedModel``): models made by runs,
their status, tags, params and searches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import (
    LoggedModel,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    PagedList,
)
from mltrail.store.base import LOGGED_MODELS_MAX_RESULTS_DEFAULT, TrackingStore

# The model this process created last (``mltrail.last_logged_model()``).
_last_logged_model_id: str | None = None


def last_logged_model_id() -> str | None:
    return _last_logged_model_id


class LoggedModels:
    """One client's logged-model calls, over its store."""

    def __init__(self, store: TrackingStore) -> None:
        self._store = store

    def create(
        self,
        experiment_id: str,
        name: str | None,
        source_run_id: str | None,
        tags: dict[str, Any] | None,
        params: dict[str, Any] | None,
        model_type: str | None,
    ) -> LoggedModel:
        global _last_logged_model_id
        model = self._store.create_logged_model(
            str(experiment_id),
            name,
            source_run_id,
            [LoggedModelTag(k, str(val)) for k, val in (tags or {}).items()],
            [LoggedModelParameter(k, str(val)) for k, val in (params or {}).items()],
            model_type,
        )
        _last_logged_model_id = model.model_id
        return model

    def finalize(self, model_id: str, status: object) -> LoggedModel:
        # Any spelling, and mlflow's LoggedModelStatus enum too.
        return self._store.finalize_logged_model(model_id, LoggedModelStatus.normalize(status))

    def search(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str | None,
        datasets: Sequence[dict[str, Any]] | None,
        max_results: int | None,
        order_by: Sequence[dict[str, Any] | str] | None,
        page_token: str | None,
    ) -> PagedList:
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        return self._store.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string or None,
            datasets,
            max_results if max_results is not None else LOGGED_MODELS_MAX_RESULTS_DEFAULT,
            order_by,
            page_token,
        )

    def set_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        tag_list = [LoggedModelTag(k, str(val)) for k, val in tags.items()]
        self._store.set_logged_model_tags(model_id, tag_list)

    def log_params(self, model_id: str, params: dict[str, Any]) -> None:
        param_list = [LoggedModelParameter(k, str(val)) for k, val in params.items()]
        self._store.log_logged_model_params(model_id, param_list)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._store.log_outputs(run_id, list(models))
