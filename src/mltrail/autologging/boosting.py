"""What XGBoost and LightGBM autologging share: one run per outermost training call (the
sklearn-style ``fit`` or the native ``train``), per-iteration evaluation metrics through a
callback, what follows the call (the flavor's own outcome, the training set, the model through
its flavor), feature importance as JSON and a bar plot."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.autologging import config, runs, safety


@dataclass
class Session:
    """One autologged training call; the native ``train`` inside a ``fit`` joins it."""

    flavor: str
    run_id: str
    options: Mapping[str, Any]
    booster: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Current(threading.local):
    session: Session | None = None


current = _Current()

# What a flavor logs from the booster once training is over (best iteration, importance...).
Outcome = Callable[[Session, Any], None]
# What follows a training call: the session, the booster or estimator, the call's arguments.
AfterCall = Callable[[Session, Any, tuple[Any, ...], Mapping[str, Any]], None]


def train_wrapper(
    flavor: str,
    add_callback: Callable[[Session, tuple[Any, ...], dict[str, Any]], None],
    native_params: Callable[[tuple[Any, ...], Mapping[str, Any]], dict[str, Any]],
    after_native: AfterCall,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap the native ``train``: inside a ``fit`` it only adds the metrics callback; called
    directly it owns the run (params, callback, then ``after_native`` with the booster)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def train(*args: Any, **kwargs: Any) -> Any:
            session = current.session
            if session is not None and session.flavor == flavor:
                safety.guarded(flavor, add_callback, session, args, kwargs)
                booster = original(*args, **kwargs)
                session.booster = booster
                return booster
            options = config.get_config(flavor)
            if options is None or safety.inside(flavor):
                return original(*args, **kwargs)
            with safety.outermost(flavor), runs.autolog_run(flavor, options) as run_id:
                if run_id is None:
                    return original(*args, **kwargs)
                session = Session(flavor, run_id, options)
                params = safety.guarded(flavor, native_params, args, kwargs) or {}
                safety.guarded(flavor, runs.log_params, flavor, run_id, params)
                safety.guarded(flavor, add_callback, session, args, kwargs)
                booster = original(*args, **kwargs)
                safety.guarded(flavor, after_native, session, booster, args, kwargs)
                return booster

        return train

    return make


def fit_wrapper(
    flavor: str,
    after_fit: AfterCall,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap an sklearn-style ``fit``: params before, everything else after."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            options = config.get_config(flavor)
            if options is None or safety.inside(flavor) or current.session is not None:
                return original(self, *args, **kwargs)
            with safety.outermost(flavor), runs.autolog_run(flavor, options) as run_id:
                if run_id is None:
                    return original(self, *args, **kwargs)
                session = Session(flavor, run_id, options)
                safety.guarded(flavor, runs.log_params, flavor, run_id, self.get_params())
                current.session = session
                try:
                    result = original(self, *args, **kwargs)
                finally:
                    current.session = None
                safety.guarded(flavor, after_fit, session, self, args, kwargs)
                return result

        return fit

    return make


def after_native(log_outcome: Outcome, model_options: tuple[str, ...] = ()) -> AfterCall:
    """After a native ``train`` that owns its run: the outcome, then the booster as a model
    (no data at hand, so no signature). ``model_options`` name autolog options passed on to
    the flavor's ``log_model``."""

    def after(
        session: Session, booster: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        log_outcome(session, booster)
        if session.options.get("log_models"):
            _log_model(session, booster, None, model_options)

    return after


def after_fit(
    log_outcome: Outcome, booster_of: Callable[[Any], Any], model_options: tuple[str, ...] = ()
) -> AfterCall:
    """After an estimator's ``fit``: the outcome of its booster (``booster_of(estimator)``),
    the training set, then the estimator as a model, its signature inferred from the data."""

    def after(
        session: Session, model: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        log_outcome(session, booster_of(model))
        x = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        if session.options.get("log_datasets") and x is not None:
            from mltrail.autologging import datasets

            safety.guarded(session.flavor, datasets.log_training_set, session.run_id, x, y)
        if session.options.get("log_models"):
            _log_model(session, model, x, model_options)

    return after


def _log_model(session: Session, model: Any, x: Any, model_options: tuple[str, ...]) -> None:
    from mltrail.autologging import model_logging

    flavor, options = session.flavor, session.options
    sample = model_logging.head(x) if x is not None else None
    signature = None
    if sample is not None and options.get("log_model_signatures"):
        signature = safety.guarded(flavor, model_logging.infer_signature, sample, model.predict)
    model_logging.log_with_flavor(
        flavor,
        flavor,
        session.run_id,
        model,
        "model",
        signature=signature,
        input_example=sample if options.get("log_input_examples") else None,
        registered_model_name=options.get("registered_model_name"),
        **{name: options.get(name) for name in model_options},
    )


def log_feature_importance(run_id: str, importance_type: str, scores: Mapping[str, float]) -> None:
    """``feature_importance_<type>.json`` (feature -> score) and a horizontal bar plot."""
    values = {str(k): float(v) for k, v in scores.items()}
    writer = runs.client()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        json_path = folder / f"feature_importance_{importance_type}.json"
        json_path.write_text(json.dumps(values, indent=2), encoding="utf-8")
        writer.log_artifact(run_id, str(json_path))
        if values:
            png = folder / f"feature_importance_{importance_type}.png"
            _bar_plot(values, importance_type, png)
            writer.log_artifact(run_id, str(png))


def _bar_plot(values: Mapping[str, float], importance_type: str, target: Path) -> None:
    from matplotlib.figure import Figure

    ordered = sorted(values.items(), key=lambda kv: kv[1])
    height = max(2.0, 0.3 * len(ordered) + 1)
    figure = Figure(figsize=(6, min(height, 20)))
    axes = figure.subplots()
    axes.barh([k for k, _ in ordered], [v for _, v in ordered], color="#4c78a8")
    axes.set_title(f"Feature importance ({importance_type})")
    figure.tight_layout()
    figure.savefig(target, dpi=80)


def log_eval_point(run_id: str, metrics: Mapping[str, float], step: int) -> None:
    writer = runs.client()
    for key, value in metrics.items():
        writer.log_metric(run_id, key, value, step=step)
