"""Differential cases: what values, steps, timestamps and keys the logging calls accept, and
what they store."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from diff_harness import Ctx, case

# How values are coerced is the client's business: through the server, MLflow's REST client
# does its own (protobuf) coercion before a request is sent, so these run in process only.
CLIENT_SIDE = False

# MLflow's SQL store clamps infinities to the largest double; mltrail keeps them.
INFINITIES = {"inf": "infinities-kept", "neg_inf": "infinities-kept"}
TIE_INFINITIES = {
    "inf_then_nan": "infinities-kept",
    "nan_then_inf": "infinities-kept",
    "nan_then_zero": "nan-zero-tie",
}
# Through the server, separate calls are separate requests: the first of equals stays, as in
# MLflow.
TIE_INFINITIES_SERVER = {k: v for k, v in TIE_INFINITIES.items() if v == "infinities-kept"}

METRIC_VALUES = [
    ("int", 1),
    ("float", 1.5),
    ("neg_zero", -0.0),
    ("nan", float("nan")),
    ("inf", float("inf")),
    ("neg_inf", float("-inf")),
    ("true", True),
    ("false", False),
    ("np_float32", np.float32(0.5)),
    ("np_float64", np.float64(0.25)),
    ("np_int64", np.int64(3)),
    ("np_bool", np.bool_(True)),
    ("np_0d_array", np.array(2.5)),
    ("np_1d_array", np.array([1.0])),
    ("np_2elem_array", np.array([1.0, 2.0])),
    ("str_number", "0.5"),
    ("str_int", "7"),
    ("str_exp", "1e3"),
    ("str_nan", "nan"),
    ("str_word", "abc"),
    ("str_empty", ""),
    ("none", None),
    ("list", [1.0]),
    ("dict", {"a": 1}),
    ("complex", complex(1, 2)),
    ("decimal", Decimal("1.25")),
    ("fraction", Fraction(1, 4)),
    ("bytes", b"1"),
    ("big_int", 2**70),
]


@case("log_metric_value", METRIC_VALUES, deliberate=INFINITIES, server=CLIENT_SIDE)
def log_metric_value(ctx: Ctx, value: Any) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_metric, "m", value)
    return {
        "call": outcome,
        "stored": ctx.run_view(run.info.run_id)["metrics"],
        "history": ctx.history(run.info.run_id, "m"),
    }


@case("client_log_metric_value", METRIC_VALUES, deliberate=INFINITIES, server=CLIENT_SIDE)
def client_log_metric_value(ctx: Ctx, value: Any) -> Any:
    run_id = ctx.new_run()
    outcome = ctx.call(ctx.client.log_metric, run_id, "m", value)
    return {"call": outcome, "history": ctx.history(run_id, "m")}


STEPS = [
    ("zero", 0),
    ("five", 5),
    ("negative", -1),
    ("float_integral", 2.0),
    ("float_fraction", 2.5),
    ("str", "3"),
    ("np_int64", np.int64(4)),
    ("np_float_integral", np.float64(6.0)),
    ("max_int64", 2**63 - 1),
    ("two_pow_63", 2**63),
    ("min_int64", -(2**63)),
    ("below_min_int64", -(2**63) - 1),
    ("true", True),
    ("nan", float("nan")),
]


@case(
    "log_metric_step",
    STEPS,
    server=CLIENT_SIDE,
    deliberate={
        "float_fraction": "fractional-steps",
        "np_int64": "numpy-integers",
        "two_pow_63": "clearer-error-codes",
        "below_min_int64": "clearer-error-codes",
    },
)
def log_metric_step(ctx: Ctx, step: Any) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_metric, "m", 1.0, step=step)
        after = ctx.call(ctx.ml.log_metric, "other", 2.0)  # the run still takes writes
    return {
        "call": outcome,
        "after": after,
        "history": ctx.history(run.info.run_id, "m"),
        "status": ctx.run_view(run.info.run_id)["status"],
    }


TIMESTAMPS = [
    ("zero", 0),
    ("ms", 1_700_000_000_000),
    ("negative", -1),
    ("float", 1.5),
    ("float_integral", 1000.0),
    ("str", "100"),
    ("np_int64", np.int64(5)),
]


@case(
    "log_metric_timestamp",
    TIMESTAMPS,
    server=CLIENT_SIDE,
    deliberate={"float": "fractional-steps", "np_int64": "numpy-integers"},
)
def log_metric_timestamp(ctx: Ctx, timestamp: Any) -> Any:
    run_id = ctx.new_run()
    outcome = ctx.call(ctx.client.log_metric, run_id, "m", 1.0, timestamp=timestamp)
    return {"call": outcome, "history": ctx.history(run_id, "m", times=True)}


KEYS = [
    ("plain", "a"),
    ("slash", "a/b"),
    ("space", "a b"),
    ("colon", "a:b"),
    ("dot", "a.b"),
    ("dash", "a-b"),
    ("empty", ""),
    ("blank", " "),
    ("dotdot_inside", "a..b"),
    ("dotdot_segment", "a/../b"),
    ("leading_dotdot", "../a"),
    ("leading_slash", "/a"),
    ("trailing_slash", "a/"),
    ("double_slash", "a//b"),
    ("dot_segment", "./a"),
    ("len_250", "k" * 250),
    ("len_251", "k" * 251),
    ("unicode", "é"),
    ("nul", "a\x00b"),
    ("newline", "a\nb"),
    ("hash", "a#b"),
    ("int", 1),
    ("none", None),
]


@case("metric_key", KEYS)
def metric_key(ctx: Ctx, key: Any) -> Any:
    run_id = ctx.new_run()
    outcome = ctx.call(ctx.client.log_metric, run_id, key, 1.0)
    return {"call": outcome, "stored": ctx.run_view(run_id)["metrics"]}


@case("param_key", KEYS)
def param_key(ctx: Ctx, key: Any) -> Any:
    run_id = ctx.new_run()
    outcome = ctx.call(ctx.client.log_param, run_id, key, "v")
    return {"call": outcome, "stored": ctx.run_view(run_id)["params"]}


@case("tag_key", KEYS, deliberate={"int": "clearer-error-codes"})
def tag_key(ctx: Ctx, key: Any) -> Any:
    run_id = ctx.new_run()
    outcome = ctx.call(ctx.client.set_tag, run_id, key, "v")
    tags = ctx.run_view(run_id)["tags"]
    return {"call": outcome, "stored": {k: v for k, v in tags.items() if "mlflow." not in k}}


PARAM_VALUES = [
    ("str", "v"),
    ("int", 1),
    ("float", 1.5),
    ("none", None),
    ("true", True),
    ("list", [1, 2]),
    ("dict", {"a": 1}),
    ("empty", ""),
    ("np_float32", np.float32(1.5)),
    ("len_6000", "x" * 6000),
    ("unicode", "héllo ☃"),
    ("newline", "a\nb"),
    ("nul", "a\x00b"),
]


@case("param_value", PARAM_VALUES, deliberate={"nul": "nul-refused"})
def param_value(ctx: Ctx, value: Any) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_param, "p", value)
    return {"call": outcome, "stored": ctx.run_view(run.info.run_id)["params"]}


@case(
    "long_param_value",
    [("len_6001", 6001), ("len_8001", 8001)],
    deliberate="long-values",
    server=False,
)
def long_param_value(ctx: Ctx, length: int) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_param, "p", "x" * length)
    stored = ctx.run_view(run.info.run_id)["params"]
    return {"call": outcome, "stored_length": len(stored.get("p", ""))}


TAG_VALUES = [
    ("str", "v"),
    ("int", 5),
    ("none", None),
    ("false", False),
    ("empty", ""),
    ("len_8000", "t" * 8000),
    ("list", ["a"]),
    ("nul", "a\x00b"),
]


@case("tag_value", TAG_VALUES, deliberate={"nul": "nul-refused"})
def tag_value(ctx: Ctx, value: Any) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.set_tag, "t", value)
    return {"call": outcome, "stored": ctx.run_view(run.info.run_id)["tags"].get("t")}


@case("long_tag_value", [("len_8001", 8001)], deliberate="long-values", server=False)
def long_tag_value(ctx: Ctx, length: int) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.set_tag, "t", "t" * length)
    return {
        "call": outcome,
        "stored_length": len(ctx.run_view(run.info.run_id)["tags"].get("t", "")),
    }


# The latest value of a metric when points share a step (and maybe a timestamp).
TIES = [
    ("3_then_7", [(1, 100, 3.0), (1, 100, 7.0)]),
    ("7_then_3", [(1, 100, 7.0), (1, 100, 3.0)]),
    ("nan_then_1", [(1, 100, float("nan")), (1, 100, 1.0)]),
    ("1_then_nan", [(1, 100, 1.0), (1, 100, float("nan"))]),
    ("nan_then_neg", [(1, 100, float("nan")), (1, 100, -1.0)]),
    ("neg_then_nan", [(1, 100, -1.0), (1, 100, float("nan"))]),
    ("inf_then_nan", [(1, 100, float("inf")), (1, 100, float("nan"))]),
    ("nan_then_inf", [(1, 100, float("nan")), (1, 100, float("inf"))]),
    ("neginf_then_5", [(1, 100, float("-inf")), (1, 100, 5.0)]),
    ("nan_then_nan", [(1, 100, float("nan")), (1, 100, float("nan"))]),
    ("zero_then_nan", [(1, 100, 0.0), (1, 100, float("nan"))]),
    ("nan_then_zero", [(1, 100, float("nan")), (1, 100, 0.0)]),
    ("three_at_tie", [(1, 100, 2.0), (1, 100, 9.0), (1, 100, 4.0)]),
    ("later_ts_smaller", [(1, 100, 7.0), (1, 200, 3.0)]),
    ("earlier_ts_larger", [(1, 200, 3.0), (1, 100, 7.0)]),
    ("higher_step_older", [(2, 100, 1.0), (1, 200, 9.0)]),
    ("neg_step", [(-5, 300, 1.0), (-1, 100, 2.0)]),
]


@case("latest_at_tie_batch", TIES, deliberate=TIE_INFINITIES)
def latest_at_tie_batch(ctx: Ctx, points: list[tuple[int, int, float]]) -> Any:
    run_id = ctx.new_run()
    metrics = [ctx.entities.Metric("m", value, ts, step) for step, ts, value in points]
    ctx.client.log_batch(run_id, metrics=metrics)
    return ctx.run_view(run_id)["metrics"]


@case(
    "latest_at_tie_calls", TIES, deliberate=TIE_INFINITIES, server_deliberate=TIE_INFINITIES_SERVER
)
def latest_at_tie_calls(ctx: Ctx, points: list[tuple[int, int, float]]) -> Any:
    run_id = ctx.new_run()
    for step, ts, value in points:
        ctx.client.log_metric(run_id, "m", value, timestamp=ts, step=step)
    return {"latest": ctx.run_view(run_id)["metrics"], "points": len(ctx.history(run_id, "m"))}


@case(
    "latest_at_tie_fluent", TIES, deliberate=TIE_INFINITIES, server_deliberate=TIE_INFINITIES_SERVER
)
def latest_at_tie_fluent(ctx: Ctx, points: list[tuple[int, int, float]]) -> Any:
    with ctx.ml.start_run() as run:
        for step, ts, value in points:
            ctx.ml.log_metric("m", value, step=step, timestamp=ts)
    return ctx.run_view(run.info.run_id)["metrics"]
