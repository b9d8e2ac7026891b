"""scikit-learn autologging: ``fit`` of every estimator logs its params, training metrics, the
fitted model and the training data; searches add one child run per best candidate; metric
functions called on an autologged model's predictions are logged too."""

from __future__ import annotations

from typing import Any

from mltrail.autologging import config, import_hooks, safety

FLAVOR = "sklearn"


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, str] | None = None,
    _explicit: bool = True,
) -> None:
    """Switch scikit-learn autologging on (MLflow's arguments and defaults), or off."""
    options = {k: v for k, v in locals().items() if k != "_explicit"}
    config.set_config(FLAVOR, options, explicit=_explicit)
    if disable:
        safety.unpatch_all(FLAVOR)
        return

    def install(_module: Any) -> None:
        from mltrail.autologging.sklearn.patching import patch_estimators

        patch_estimators()

    import_hooks.when_imported("sklearn", install)


__all__ = ["autolog"]
