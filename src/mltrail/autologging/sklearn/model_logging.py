"""The fitted estimator as the run's ``model`` (and a search's ``best_estimator``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.autologging import model_logging, safety
from mltrail.autologging.sklearn import FLAVOR


def log_fitted_model(
    run_id: str,
    estimator: Any,
    x: Any,
    options: Mapping[str, Any],
    metrics: Mapping[str, float],
    name: str = "model",
) -> Any | None:
    sample = model_logging.head(x)
    signature = None
    if options.get("log_model_signatures") and sample is not None and hasattr(estimator, "predict"):
        signature = safety.guarded(FLAVOR, model_logging.infer_signature, sample, estimator.predict)
    return model_logging.log_with_flavor(
        "sklearn",
        FLAVOR,
        run_id,
        estimator,
        name,
        signature=signature,
        input_example=sample if options.get("log_input_examples") else None,
        serialization_format=options.get("serialization_format"),
        registered_model_name=options.get("registered_model_name"),
        params=safety.guarded(FLAVOR, _model_params, estimator),
    )


def _model_params(estimator: Any) -> dict[str, str]:
    """The estimator's params on the logged model too, as MLflow does."""
    from mltrail.autologging.runs import param_text

    return {str(k): param_text(v) for k, v in estimator.get_params(deep=False).items()}
