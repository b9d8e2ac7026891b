"""The fluent API's searches: runs and logged models, every page, as a DataFrame or a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import LoggedModel, Run, ViewType
from mltrail.entities.tracking import collect_pages
from mltrail.exceptions import InvalidParameterValue
from mltrail.tracking.client import TrailClient
from mltrail.tracking.fluent import _get_client, _resolve_experiment_id, search_experiments


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """Runs matching a filter, as a pandas DataFrame (default) or a list of ``Run``."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Unknown output_format {output_format!r}; use 'pandas' or 'list'."
        )
    client = _get_client()
    ids = _search_experiment_ids(client, experiment_ids, experiment_names, search_all_experiments)
    runs: list[Run] = []
    if max_results > 0:
        runs = collect_pages(
            lambda size, token: client.search_runs(
                ids, filter_string, run_view_type, size, order_by, token
            ),
            50000,
            max_results,
        )
    if output_format == "list":
        return runs
    from mltrail.tracking.frames import runs_to_dataframe

    return runs_to_dataframe(runs)


def _search_experiment_ids(
    client: TrailClient,
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    search_all: bool,
) -> list[str]:
    if experiment_ids:
        return [
            str(e)
            for e in ([experiment_ids] if isinstance(experiment_ids, str) else experiment_ids)
        ]
    if experiment_names:
        ids = []
        for name in experiment_names:
            experiment = client.get_experiment_by_name(name)
            if experiment is not None:
                ids.append(experiment.experiment_id)
        return ids
    if search_all:
        return [e.experiment_id for e in search_experiments(view_type=ViewType.ALL)]
    return [_resolve_experiment_id()]


def get_logged_model(model_id: str) -> LoggedModel:
    """One of MLflow 3's logged models, by id."""
    return _get_client().get_logged_model(model_id)


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[dict[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[dict[str, Any] | str] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Logged models matching a filter (every page), as a DataFrame (default) or a list."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Unknown output_format {output_format!r}; use 'pandas' or 'list'."
        )
    client = _get_client()
    ids = _search_experiment_ids(client, experiment_ids, None, False)
    models: list[LoggedModel] = []
    if max_results is None or max_results > 0:
        models = collect_pages(
            lambda size, token: client.search_logged_models(
                ids, filter_string, datasets, size, order_by, token
            ),
            100,
            max_results,
        )
    if output_format == "list":
        return models
    from mltrail.tracking.frames import logged_models_to_dataframe

    return logged_models_to_dataframe(models)
