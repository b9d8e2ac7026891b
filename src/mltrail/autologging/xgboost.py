"""XGBoost autologging: ``xgboost.train`` and the sklearn-style estimators log their params,
every evaluation metric per iteration (``validation_0-logloss``...), feature importance, the
training data and the model (``mltrail.xgboost``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.autologging import boosting, config, import_hooks, runs, safety

FLAVOR = "xgboost"
# Autolog options that go on to ``mltrail.xgboost.log_model``.
MODEL_OPTIONS = ("model_format",)


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, str] | None = None,
    _explicit: bool = True,
) -> None:
    """Switch XGBoost autologging on (MLflow's arguments and defaults), or off."""
    options = {k: v for k, v in locals().items() if k != "_explicit"}
    options["importance_types"] = list(importance_types or ["weight"])
    config.set_config(FLAVOR, options, explicit=_explicit)
    if disable:
        safety.unpatch_all(FLAVOR)
        return
    import_hooks.when_imported("xgboost", _install)


def _install(_module: Any) -> None:
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    wrap_train = boosting.train_wrapper(
        FLAVOR, _add_callback, _native_params, boosting.after_native(_log_outcome, MODEL_OPTIONS)
    )
    wrap_fit = boosting.fit_wrapper(
        FLAVOR, boosting.after_fit(_log_outcome, lambda model: model.get_booster(), MODEL_OPTIONS)
    )
    for owner in (xgboost, xgboost.training, xgboost.sklearn):
        if hasattr(owner, "train"):
            safety.patch(FLAVOR, owner, "train", wrap_train)
    for cls in _subclasses(xgboost.sklearn.XGBModel):
        if "fit" in vars(cls):
            safety.patch(FLAVOR, cls, "fit", wrap_fit)


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    sub: type
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


def _native_params(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(args[0] if args else kwargs.get("params") or {})
    for name, position in (("num_boost_round", 2),):
        value = args[position] if len(args) > position else kwargs.get(name, 10)
        params[name] = value
    for name in ("early_stopping_rounds", "maximize", "verbose_eval"):
        if name in kwargs:
            params[name] = kwargs[name]
    return params


def _add_callback(session: boosting.Session, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    import xgboost

    run_id = session.run_id

    class MltrailEvalMetrics(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            point = {
                f"{data}-{metric}": float(
                    values[-1][0] if isinstance(values[-1], tuple) else values[-1]
                )
                for data, by_metric in evals_log.items()
                for metric, values in by_metric.items()
                if values
            }
            safety.guarded(FLAVOR, boosting.log_eval_point, run_id, point, epoch)
            return False

    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), MltrailEvalMetrics()]


def _log_outcome(session: boosting.Session, booster: Any) -> None:
    run_id = session.run_id
    best = getattr(booster, "best_iteration", None)
    attrs = booster.attributes() if hasattr(booster, "attributes") else {}
    if "best_iteration" in attrs and best is not None:
        runs.log_metrics(
            run_id, {"best_iteration": best, "stopped_iteration": booster.num_boosted_rounds() - 1}
        )
    for importance_type in session.options.get("importance_types", ["weight"]):
        scores = safety.guarded(FLAVOR, booster.get_score, importance_type=importance_type)
        if scores is not None:
            safety.guarded(FLAVOR, boosting.log_feature_importance, run_id, importance_type, scores)
