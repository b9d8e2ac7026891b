"""Which scikit-learn methods are wrapped, and the wrappers themselves."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mltrail.autologging import config, runs, safety
from mltrail.autologging.sklearn import FLAVOR

FIT_METHODS = ("fit", "fit_predict", "fit_transform")
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "transform")


def estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _name, cls in all_estimators()]
    return [*classes, Pipeline, GridSearchCV, RandomizedSearchCV]


def _defining_class(cls: type, name: str) -> type | None:
    """The sklearn class in ``cls``'s MRO that defines ``name`` as a plain function; None for
    descriptors (``available_if`` hides predict_proba where it does not apply: keep that)."""
    for base in cls.__mro__:
        if name in vars(base):
            found = vars(base)[name]
            wanted = inspect.isfunction(found) or safety.is_patched(found)
            return base if wanted and base.__module__.startswith("sklearn") else None
    return None


def patch_estimators() -> None:
    from mltrail.autologging.sklearn import post_training

    for cls in estimator_classes():
        for name in FIT_METHODS:
            owner = _defining_class(cls, name)
            if owner is not None:
                safety.patch(FLAVOR, owner, name, _fit_wrapper)
        for name in PREDICT_METHODS:
            owner = _defining_class(cls, name)
            if owner is not None:
                safety.patch(FLAVOR, owner, name, post_training.predict_wrapper)
        owner = _defining_class(cls, "score")
        if owner is not None:
            safety.patch(FLAVOR, owner, "score", post_training.score_wrapper)
    post_training.patch_metric_functions()


def _fit_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        options = config.get_config(FLAVOR)
        if options is None or safety.inside(FLAVOR):
            return original(self, *args, **kwargs)
        with safety.outermost(FLAVOR), runs.autolog_run(FLAVOR, options) as run_id:
            if run_id is None:
                return original(self, *args, **kwargs)
            from mltrail.autologging.sklearn import training

            safety.guarded(FLAVOR, training.before_fit, run_id, self)
            result = original(self, *args, **kwargs)
            safety.guarded(FLAVOR, training.after_fit, run_id, self, args, kwargs, options)
            return result

    return fit
