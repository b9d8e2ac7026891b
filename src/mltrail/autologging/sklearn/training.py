"""What one autologged ``fit`` records: params and tags before, metrics, artifacts, data and
model after."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.autologging import runs, safety
from mltrail.autologging.sklearn import FLAVOR

SEARCH_CLASSES = (
    "GridSearchCV",
    "RandomizedSearchCV",
    "HalvingGridSearchCV",
    "HalvingRandomSearchCV",
)


def is_search(estimator: Any) -> bool:
    return type(estimator).__name__ in SEARCH_CLASSES and hasattr(estimator, "estimator")


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }


def before_fit(run_id: str, estimator: Any) -> None:
    # A search logs its own settings (the base estimator as its repr); the rest log deeply,
    # so a pipeline's steps' params are there too.
    params = estimator.get_params(deep=not is_search(estimator))
    runs.log_params(FLAVOR, run_id, params)
    runs.set_tags(run_id, estimator_tags(estimator))


def fit_data(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y", kwargs.get("Y"))
    return x, y, kwargs.get("sample_weight")


def after_fit(
    run_id: str,
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    options: Mapping[str, Any],
) -> None:
    x, y, weight = fit_data(args, kwargs)
    metrics = (
        safety.guarded(FLAVOR, training_metrics, estimator, x, y, weight, options.get("pos_label"))
        or {}
    )
    runs.log_metrics(run_id, metrics)
    with tempfile.TemporaryDirectory() as tmp:
        safety.guarded(FLAVOR, _log_estimator_artifacts, run_id, estimator, x, y, Path(tmp))
    if is_search(estimator):
        from mltrail.autologging.sklearn import search

        safety.guarded(FLAVOR, search.log_search, run_id, estimator, x, y, options)
    dataset = None
    if options.get("log_datasets") and x is not None:
        from mltrail.autologging import datasets

        dataset = safety.guarded(FLAVOR, datasets.log_training_set, run_id, x, y)
    if options.get("log_models"):
        from mltrail.autologging.sklearn import model_logging

        model_logging.log_fitted_model(run_id, estimator, x, options, metrics)
    if options.get("log_post_training_metrics"):
        from mltrail.autologging.sklearn import post_training

        post_training.track_model(estimator, run_id)
    del dataset


def training_metrics(
    estimator: Any, x: Any, y: Any, weight: Any, pos_label: Any
) -> dict[str, float]:
    """MLflow's ``training_*`` metrics for the estimator's kind (classifier, regressor, other)."""
    from sklearn.base import is_classifier, is_regressor

    if x is None:
        return {}
    metrics: dict[str, float] = {}
    if y is None:
        score = safety.guarded(FLAVOR, estimator.score, x) if hasattr(estimator, "score") else None
        if score is not None:
            metrics["training_score"] = float(score)
        return metrics
    if hasattr(estimator, "score"):
        score = safety.guarded(FLAVOR, _score, estimator, x, y, weight)
        if score is not None:
            metrics["training_score"] = float(score)
    if is_classifier(estimator):
        metrics.update(_classifier_metrics(estimator, x, y, weight, pos_label))
    elif is_regressor(estimator):
        metrics.update(_regressor_metrics(estimator, x, y, weight))
    return {k: v for k, v in metrics.items() if v is not None}


def _score(estimator: Any, x: Any, y: Any, weight: Any) -> float:
    if weight is not None:
        return float(estimator.score(x, y, sample_weight=weight))
    return float(estimator.score(x, y))


def _classifier_metrics(
    estimator: Any, x: Any, y: Any, weight: Any, pos_label: Any
) -> dict[str, float]:
    from sklearn import metrics as m

    predicted = estimator.predict(x)
    average = "binary" if pos_label is not None else "weighted"
    label_args: dict[str, Any] = {"average": average, "sample_weight": weight}
    if pos_label is not None:
        label_args["pos_label"] = pos_label
    out: dict[str, Any] = {
        "training_accuracy_score": safety.guarded(
            FLAVOR, m.accuracy_score, y, predicted, sample_weight=weight
        ),
        "training_precision_score": safety.guarded(
            FLAVOR, m.precision_score, y, predicted, zero_division=0, **label_args
        ),
        "training_recall_score": safety.guarded(
            FLAVOR, m.recall_score, y, predicted, zero_division=0, **label_args
        ),
        "training_f1_score": safety.guarded(
            FLAVOR, m.f1_score, y, predicted, zero_division=0, **label_args
        ),
    }
    if hasattr(estimator, "predict_proba"):
        proba = safety.guarded(FLAVOR, estimator.predict_proba, x)
        if proba is not None:
            labels = getattr(estimator, "classes_", None)
            out["training_log_loss"] = safety.guarded(
                FLAVOR, m.log_loss, y, proba, sample_weight=weight, labels=labels
            )
            out["training_roc_auc"] = safety.guarded(FLAVOR, _roc_auc, y, proba, weight)
    return {k: float(v) for k, v in out.items() if v is not None}


def _roc_auc(y: Any, proba: Any, weight: Any) -> float | None:
    from sklearn.metrics import roc_auc_score

    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1], sample_weight=weight))
    return float(
        roc_auc_score(y, proba, average="weighted", multi_class="ovo", sample_weight=weight)
    )


def _regressor_metrics(estimator: Any, x: Any, y: Any, weight: Any) -> dict[str, float]:
    from sklearn import metrics as m

    predicted = estimator.predict(x)
    mse = float(m.mean_squared_error(y, predicted, sample_weight=weight))
    return {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": float(
            m.mean_absolute_error(y, predicted, sample_weight=weight)
        ),
        "training_r2_score": float(m.r2_score(y, predicted, sample_weight=weight)),
    }


def _log_estimator_artifacts(run_id: str, estimator: Any, x: Any, y: Any, folder: Path) -> None:
    from sklearn.base import is_classifier
    from sklearn.utils import estimator_html_repr

    (folder / "estimator.html").write_text(estimator_html_repr(estimator), encoding="utf-8")
    if is_classifier(estimator) and x is not None and y is not None:
        safety.guarded(
            FLAVOR,
            _plot_confusion_matrix,
            estimator,
            x,
            y,
            folder / "training_confusion_matrix.png",
        )
        classes = getattr(estimator, "classes_", ())
        if len(classes) == 2 and hasattr(estimator, "predict_proba"):
            safety.guarded(FLAVOR, _plot_binary_curves, estimator, x, y, folder)
    writer = runs.client()
    for path in sorted(folder.iterdir()):
        writer.log_artifact(run_id, str(path))


def _plot_binary_curves(estimator: Any, x: Any, y: Any, folder: Path) -> None:
    """MLflow's ``training_roc_curve.png`` and ``training_precision_recall_curve.png``."""
    from matplotlib.figure import Figure
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    for display, name in (
        (RocCurveDisplay, "training_roc_curve.png"),
        (PrecisionRecallDisplay, "training_precision_recall_curve.png"),
    ):
        figure = Figure(figsize=(5, 4))
        display.from_estimator(estimator, x, y, ax=figure.subplots())
        figure.savefig(folder / name, dpi=80)


def _plot_confusion_matrix(estimator: Any, x: Any, y: Any, target: Path) -> None:
    # A bare Figure (no pyplot): the user's backend and open figures are left alone.
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    figure = Figure(figsize=(5, 4))
    ConfusionMatrixDisplay.from_estimator(estimator, x, y, ax=figure.subplots())
    figure.savefig(target, dpi=80)
