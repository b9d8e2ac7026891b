"""Post-training metrics: a ``sklearn.metrics`` function (or ``model.score``) applied to an
autologged model's predictions logs ``<metric>[-<n>]_<dataset variable>`` to that model's run,
and ``metric_info.json`` records the call that made each one.

Only the exact object a patched ``predict`` returned is recognised (kept by weak reference, so
nothing is held alive); the dataset name is the variable the data was passed as, found in the
caller's frame, and ``unknown_dataset`` when it was an expression.
"""

from __future__ import annotations

import inspect
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from mltrail.autologging import config, runs, safety
from mltrail.autologging.sklearn import FLAVOR

METRIC_INFO_FILE = "metric_info.json"
_METRIC_SUFFIXES = ("_score", "_error", "_loss", "_deviance")
_EXTRA_METRICS = {"matthews_corrcoef", "cohen_kappa_score", "max_error"}

_lock = threading.Lock()
_models: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@dataclass
class _Prediction:
    output: weakref.ref[Any]
    run_id: str
    dataset_name: str
    data: weakref.ref[Any] | None


@dataclass
class _RunState:
    counters: dict[str, int] = field(default_factory=dict)
    dataset_ids: dict[str, int] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    eval_logged: set[str] = field(default_factory=set)


_predictions: dict[int, _Prediction] = {}
_run_states: dict[str, _RunState] = {}


def track_model(estimator: Any, run_id: str) -> None:
    with _lock:
        _models[estimator] = run_id


def _model_run(estimator: Any) -> str | None:
    try:
        return _models.get(estimator)
    except TypeError:  # an unhashable estimator
        return None


def _state(run_id: str) -> _RunState:
    state = _run_states.get(run_id)
    if state is None:
        state = _run_states[run_id] = _RunState()
    return state


def _variable_name(frame: FrameType | None, value: Any) -> str | None:
    if frame is None:
        return None
    for name, candidate in frame.f_locals.items():
        if candidate is value and not name.startswith("_"):
            return name
    return None


def _dataset_name(run_id: str, frame: FrameType | None, data: Any) -> str:
    name = _variable_name(frame, data)
    if name is None:
        return "unknown_dataset"
    seen = _state(run_id).dataset_ids
    candidate, n = name, 1
    while candidate in seen and seen[candidate] != id(data):
        n += 1
        candidate = f"{name}-{n}"
    seen[candidate] = id(data)
    return candidate


def _weak(value: Any) -> weakref.ref[Any] | None:
    try:
        return weakref.ref(value)
    except TypeError:
        return None


# -- wrappers ----------------------------------------------------------------------------------
def predict_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        if safety.inside(FLAVOR) or config.get_config(FLAVOR) is None:
            return original(self, *args, **kwargs)
        with safety.outermost(FLAVOR):  # fits made inside (label encoders...) are not runs
            result = original(self, *args, **kwargs)
        run_id = _model_run(self)
        if run_id is not None:
            safety.guarded(
                FLAVOR, _remember_prediction, run_id, result, args, kwargs, sys._getframe(1)
            )
        return result

    return predict


def _remember_prediction(
    run_id: str, result: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], frame: FrameType
) -> None:
    output = _weak(result)
    if output is None:
        return
    data = args[0] if args else kwargs.get("X")
    key = id(result)
    with _lock:
        _predictions[key] = _Prediction(
            output, run_id, _dataset_name(run_id, frame, data), _weak(data)
        )
    weakref.finalize(result, _predictions.pop, key, None)


def score_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        if safety.inside(FLAVOR) or config.get_config(FLAVOR) is None:
            return original(self, *args, **kwargs)
        with safety.outermost(FLAVOR):
            result = original(self, *args, **kwargs)
        run_id = _model_run(self)
        if run_id is not None:
            frame = sys._getframe(1)
            safety.guarded(FLAVOR, _log_score, run_id, self, original, args, kwargs, result, frame)
        return result

    return score


def _log_score(
    run_id: str,
    estimator: Any,
    original: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    result: Any,
    frame: FrameType,
) -> None:
    bound = inspect.signature(original).bind(estimator, *args, **kwargs).arguments
    bound.pop("self", None)
    data = bound.get("X")
    dataset = _dataset_name(run_id, frame, data)
    call = f"{type(estimator).__name__}.score({_call_args(bound, frame)})"
    _log_metric(run_id, f"{type(estimator).__name__}_score", dataset, result, call, data)


def patch_metric_functions() -> None:
    import sklearn.metrics as metrics_module

    for name in getattr(metrics_module, "__all__", dir(metrics_module)):
        function = getattr(metrics_module, name, None)
        if not (inspect.isfunction(function) or safety.is_patched(function)):
            continue
        if name.endswith(_METRIC_SUFFIXES) or name in _EXTRA_METRICS:
            if name.startswith(("make_", "get_", "check_")):
                continue
            safety.patch(FLAVOR, metrics_module, name, _metric_wrapper(name))


def _metric_wrapper(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def metric(*args: Any, **kwargs: Any) -> Any:
            if safety.inside(FLAVOR) or config.get_config(FLAVOR) is None:
                return original(*args, **kwargs)
            with safety.outermost(FLAVOR):
                result = original(*args, **kwargs)
            if not _predictions:
                return result
            frame = sys._getframe(1)
            safety.guarded(FLAVOR, _log_metric_call, name, original, args, kwargs, result, frame)
            return result

        return metric

    return make


def _log_metric_call(
    name: str,
    original: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    result: Any,
    frame: FrameType,
) -> None:
    bound = inspect.signature(original).bind(*args, **kwargs).arguments
    prediction = None
    for value in bound.values():
        found = _predictions.get(id(value))
        if found is not None and found.output() is value:
            prediction = found
            break
    if prediction is None:
        return
    call = f"{name}({_call_args(bound, frame)})"
    data = prediction.data() if prediction.data is not None else None
    _log_metric(prediction.run_id, name, prediction.dataset_name, result, call, data)


def _log_metric(
    run_id: str, metric_name: str, dataset: str, result: Any, call: str, data: Any
) -> None:
    value = runs.to_float(result)
    if value is None:  # a report, a curve: not one number
        return
    with _lock:
        state = _state(run_id)
        count = state.counters.get(metric_name, 0) + 1
        state.counters[metric_name] = count
        key = f"{metric_name}{'' if count == 1 else f'-{count}'}_{dataset}"
        state.info[key] = call
        info = dict(state.info)
        first_eval = dataset not in state.eval_logged
        state.eval_logged.add(dataset)
    writer = runs.client()
    writer.log_metric(run_id, key, value)
    writer.log_dict(run_id, info, METRIC_INFO_FILE)
    options = config.get_config(FLAVOR) or {}
    if (
        first_eval
        and data is not None
        and options.get("log_datasets")
        and dataset != "unknown_dataset"
    ):
        from mltrail.autologging.datasets import dataset_for
        from mltrail.tracking.fluent_inputs import dataset_input

        found = dataset_for(data, name=dataset)
        writer.flush()
        writer.store.log_inputs(run_id, [dataset_input(found, "eval")])


def _call_args(bound: Mapping[str, Any], frame: FrameType | None) -> str:
    parts: list[str] = []
    for key, value in bound.items():
        if key == "kwargs" and isinstance(value, dict):
            parts.extend(f"{k}={_describe(v, frame)}" for k, v in value.items())
            continue
        parts.append(f"{key}={_describe(value, frame)}")
    return ", ".join(parts)


def _describe(value: Any, frame: FrameType | None) -> str:
    name = _variable_name(frame, value)
    if name is not None:
        return name
    if type(value).__module__.startswith(("numpy", "pandas")) and hasattr(value, "shape"):
        return f"<{type(value).__name__}>"
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."
