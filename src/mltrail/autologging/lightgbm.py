"""LightGBM autologging: ``lightgbm.train`` and the sklearn-style estimators log their params,
every evaluation metric per iteration (``valid_0-l2``...), split and gain feature importance,
the training data and the model (``mltrail.lightgbm``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.autologging import boosting, config, import_hooks, runs, safety

FLAVOR = "lightgbm"
IMPORTANCE_TYPES = ("split", "gain")


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    _explicit: bool = True,
) -> None:
    """Switch LightGBM autologging on (MLflow's arguments and defaults), or off."""
    options = {k: v for k, v in locals().items() if k != "_explicit"}
    config.set_config(FLAVOR, options, explicit=_explicit)
    if disable:
        safety.unpatch_all(FLAVOR)
        return
    import_hooks.when_imported("lightgbm", _install)


def _install(_module: Any) -> None:
    import lightgbm
    import lightgbm.engine
    import lightgbm.sklearn

    wrap_train = boosting.train_wrapper(
        FLAVOR, _add_callback, _native_params, boosting.after_native(_log_outcome)
    )
    wrap_fit = boosting.fit_wrapper(
        FLAVOR, boosting.after_fit(_log_outcome, lambda model: model.booster_)
    )
    for owner in (lightgbm, lightgbm.engine, lightgbm.sklearn):
        if hasattr(owner, "train"):
            safety.patch(FLAVOR, owner, "train", wrap_train)
    stack = [lightgbm.sklearn.LGBMModel]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "fit" in vars(cls):
            safety.patch(FLAVOR, cls, "fit", wrap_fit)


def _native_params(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(args[0] if args else kwargs.get("params") or {})
    params["num_boost_round"] = args[2] if len(args) > 2 else kwargs.get("num_boost_round", 100)
    for name in ("feature_name", "categorical_feature", "keep_training_booster"):
        if name in kwargs:
            params[name] = kwargs[name]
    return params


def _add_callback(session: boosting.Session, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    run_id = session.run_id

    def record_evaluation(env: Any) -> None:
        point = {
            f"{item[0]}-{item[1]}": float(item[2]) for item in env.evaluation_result_list or []
        }
        if point:
            safety.guarded(FLAVOR, boosting.log_eval_point, run_id, point, env.iteration)

    record_evaluation.order = 25  # type: ignore[attr-defined]  # after LightGBM's own loggers
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), record_evaluation]


def _log_outcome(session: boosting.Session, booster: Any) -> None:
    run_id = session.run_id
    best = getattr(booster, "best_iteration", 0)
    if best:
        runs.log_metrics(
            run_id, {"best_iteration": best, "stopped_iteration": booster.current_iteration()}
        )
    names = booster.feature_name()
    for importance_type in IMPORTANCE_TYPES:
        scores = safety.guarded(FLAVOR, booster.feature_importance, importance_type=importance_type)
        if scores is not None:
            importance = dict(zip(names, (float(s) for s in scores), strict=False))
            safety.guarded(
                FLAVOR, boosting.log_feature_importance, run_id, importance_type, importance
            )
