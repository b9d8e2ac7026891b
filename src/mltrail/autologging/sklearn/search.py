"""GridSearchCV / RandomizedSearchCV: the parent run's ``best_*`` params, ``best_cv_score`` and
``cv_results.csv``, and one child run for each of the best ``max_tuning_runs`` candidates."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.autologging import runs, safety
from mltrail.autologging.sklearn import FLAVOR
from mltrail.autologging.sklearn.training import estimator_tags
from mltrail.entities import Metric, Param
from mltrail.tracking.context import PARENT_RUN_ID


def log_search(run_id: str, search: Any, x: Any, y: Any, options: Mapping[str, Any]) -> None:
    if hasattr(search, "best_params_"):
        runs.log_params(FLAVOR, run_id, {f"best_{k}": v for k, v in search.best_params_.items()})
    if hasattr(search, "best_score_"):
        runs.log_metrics(run_id, {"best_cv_score": search.best_score_})
    results = getattr(search, "cv_results_", None)
    if results is None:
        return
    safety.guarded(FLAVOR, _log_cv_results_csv, run_id, results)
    safety.guarded(FLAVOR, log_child_runs, run_id, search, x, y, options)
    if options.get("log_models") and hasattr(search, "best_estimator_"):
        from mltrail.autologging.sklearn import model_logging

        model_logging.log_fitted_model(
            run_id, search.best_estimator_, x, options, {}, name="best_estimator"
        )


def _log_cv_results_csv(run_id: str, results: Mapping[str, Any]) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cv_results.csv"
        pd.DataFrame(results).to_csv(path, index=False)
        runs.client().log_artifact(run_id, str(path))


def _rank_key(results: Mapping[str, Any]) -> str | None:
    if "rank_test_score" in results:
        return "rank_test_score"
    ranks = [k for k in results if k.startswith("rank_test_")]
    return ranks[0] if ranks else None


def chosen_rows(results: Mapping[str, Any], max_tuning_runs: int | None) -> list[int]:
    count = len(results["params"])
    key = _rank_key(results)
    order = sorted(range(count), key=lambda i: results[key][i]) if key else list(range(count))
    return order if max_tuning_runs is None else order[: max(0, int(max_tuning_runs))]


def child_metrics(results: Mapping[str, Any], row: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, column in results.items():
        if key == "params" or key.startswith(("param_", "split")):
            continue
        value = runs.to_float(column[row])
        if value is not None:
            out[key] = value
    return out


def log_child_runs(
    parent_id: str, search: Any, x: Any, y: Any, options: Mapping[str, Any]
) -> list[str]:
    results = search.cv_results_
    rows = chosen_rows(results, options.get("max_tuning_runs", 5))
    omitted = len(results["params"]) - len(rows)
    if omitted > 0:
        safety.info(
            FLAVOR, "Logging the %d best runs, %d run(s) will be omitted.", len(rows), omitted
        )
    writer = runs.client()
    parent = writer.get_run(parent_id)
    base = search.estimator
    base_params = base.get_params(deep=True)
    tags = {PARENT_RUN_ID: parent_id, runs.AUTOLOGGING_TAG: FLAVOR, **estimator_tags(base)}
    for key in (
        "mlflow.user",
        "mlflow.source.name",
        "mlflow.source.type",
        "mlflow.source.git.commit",
    ):
        if key in parent.data.tags:
            tags.setdefault(key, parent.data.tags[key])
    dataset = None
    if options.get("log_datasets") and x is not None:
        from mltrail.autologging.datasets import dataset_for

        dataset = safety.guarded(FLAVOR, dataset_for, x, y)
    child_ids = []
    for row in rows:
        child = writer.create_run(parent.info.experiment_id, tags=tags)
        run_id = child.info.run_id
        params = {**base_params, **results["params"][row]}
        now = child.info.start_time or int(time.time() * 1000)
        writer.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in child_metrics(results, row).items()],
            params=[Param(str(k), runs.param_text(v)) for k, v in params.items()],
        )
        if dataset is not None:
            from mltrail.tracking.fluent_inputs import dataset_input

            writer.store.log_inputs(run_id, [dataset_input(dataset, "train")])
        writer.set_terminated(run_id, "FINISHED")
        child_ids.append(run_id)
    return child_ids
