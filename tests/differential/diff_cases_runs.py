"""Differential cases: run and experiment lifecycle, params that change, writes to runs that
do not exist, the client's batch and read calls."""

from __future__ import annotations

from typing import Any

from diff_harness import Ctx, case

MISSING_RUN = "0" * 31 + "1"


def _user_tags(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view["tags"].items() if not k.startswith("mlflow.")}


# -- params ------------------------------------------------------------------------------------
@case("param_same_value_twice")
def param_same_value_twice(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        first = ctx.call(ctx.ml.log_param, "p", 1)
        second = ctx.call(ctx.ml.log_param, "p", "1")
    return [first, second, ctx.run_view(run.info.run_id)["params"]]


@case("param_changed_raises_at_call")
def param_changed_raises_at_call(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_param("p", "a")
        changed = ctx.call(ctx.ml.log_param, "p", "b")
        later = ctx.call(ctx.ml.log_metric, "m", 1.0)
    return [changed, later, ctx.run_view(run.info.run_id)]


@case("params_with_changed_key_store_nothing")
def params_with_changed_key_store_nothing(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_param("p", "a")
        outcome = ctx.call(ctx.ml.log_params, {"p": "b", "q": "c"})
    return [outcome, ctx.run_view(run.info.run_id)["params"]]


@case("client_param_changed")
def client_param_changed(ctx: Ctx, _: Any) -> Any:
    run_id = ctx.new_run()
    ctx.client.log_param(run_id, "p", "a")
    changed = ctx.call(ctx.client.log_param, run_id, "p", "b")
    missing = ctx.call(ctx.client.get_run, MISSING_RUN)
    return [changed, missing, ctx.run_view(run_id)["params"]]


@case("log_batch_changed_param")
def log_batch_changed_param(ctx: Ctx, _: Any) -> Any:
    E = ctx.entities
    run_id = ctx.new_run()
    ctx.client.log_param(run_id, "p", "a")
    outcome = ctx.call(
        ctx.client.log_batch,
        run_id,
        metrics=[E.Metric("m", 1.0, 5, 0)],
        params=[E.Param("p", "b"), E.Param("q", "c")],
        tags=[E.RunTag("t", "x")],
    )
    view = ctx.run_view(run_id)
    return [outcome, view["params"], view["metrics"], _user_tags(view)]


@case("log_batch_duplicate_param_keys", [("same", "a"), ("different", "b")])
def log_batch_duplicate_param_keys(ctx: Ctx, second: str) -> Any:
    E = ctx.entities
    run_id = ctx.new_run()
    outcome = ctx.call(
        ctx.client.log_batch, run_id, params=[E.Param("p", "a"), E.Param("p", second)]
    )
    return [outcome, ctx.run_view(run_id)["params"]]


# -- writes to runs that do not exist, or are deleted -----------------------------------------
WRITES = [
    "log_metric",
    "log_param",
    "set_tag",
    "log_batch",
    "delete_tag",
    "set_terminated",
    "update_run",
    "log_text",
    "delete_run",
    "restore_run",
    "get_run",
    "get_metric_history",
]


def _write(ctx: Ctx, what: str, run_id: str) -> Any:
    c = ctx.client
    E = ctx.entities
    calls = {
        "log_metric": lambda: c.log_metric(run_id, "m", 1.0),
        "log_param": lambda: c.log_param(run_id, "p", "v"),
        "set_tag": lambda: c.set_tag(run_id, "t", "v"),
        "log_batch": lambda: c.log_batch(run_id, metrics=[E.Metric("m", 1.0, 1, 0)]),
        "delete_tag": lambda: c.delete_tag(run_id, "t"),
        "set_terminated": lambda: c.set_terminated(run_id),
        "update_run": lambda: c.update_run(run_id, status="FAILED"),
        "log_text": lambda: c.log_text(run_id, "x", "a.txt"),
        "delete_run": lambda: c.delete_run(run_id),
        "restore_run": lambda: c.restore_run(run_id),
        "get_run": lambda: c.get_run(run_id).info.status,
        "get_metric_history": lambda: c.get_metric_history(run_id, "m"),
    }
    return ctx.call(calls[what])


@case(
    "client_write_to_missing_run",
    WRITES,
    deliberate={"get_metric_history": "history-of-missing-run"},
)
def client_write_to_missing_run(ctx: Ctx, what: str) -> Any:
    outcome = _write(ctx, what, MISSING_RUN)
    flushed = ctx.call(ctx.ml.flush_async_logging)
    return [outcome, flushed]


@case("client_write_to_deleted_run", WRITES)
def client_write_to_deleted_run(ctx: Ctx, what: str) -> Any:
    run_id = ctx.new_run()
    ctx.client.set_tag(run_id, "t", "v")
    ctx.client.delete_run(run_id)
    outcome = _write(ctx, what, run_id)
    return [outcome, ctx.call(ctx.ml.flush_async_logging)]


@case("fluent_log_metric_to_missing_run_id")
def fluent_log_metric_to_missing_run_id(ctx: Ctx, _: Any) -> Any:
    return ctx.call(ctx.ml.log_metric, "m", 1.0, run_id=MISSING_RUN)


# -- synchronous=False -------------------------------------------------------------------------
ASYNC_CALLS = ["log_metric", "log_param", "set_tag", "log_metrics", "log_params", "set_tags"]


@case("fluent_synchronous_false", ASYNC_CALLS)
def fluent_synchronous_false(ctx: Ctx, what: str) -> Any:
    args = {
        "log_metric": ("m", 1.0),
        "log_param": ("p", "v"),
        "set_tag": ("t", "v"),
        "log_metrics": ({"m": 1.0, "n": 2.0},),
        "log_params": ({"p": "v", "q": "w"},),
        "set_tags": ({"t": "v", "u": "w"},),
    }[what]
    with ctx.ml.start_run() as run:
        handle = getattr(ctx.ml, what)(*args, synchronous=False)
        waited = ctx.call(handle.wait) if hasattr(handle, "wait") else "no wait()"
    view = ctx.run_view(run.info.run_id)
    return [waited, view["metrics"], view["params"], _user_tags(view)]


@case("fluent_synchronous_true", ASYNC_CALLS)
def fluent_synchronous_true(ctx: Ctx, what: str) -> Any:
    args = {
        "log_metric": ("m", 1.0),
        "log_param": ("p", "v"),
        "set_tag": ("t", "v"),
        "log_metrics": ({"m": 1.0},),
        "log_params": ({"p": "v"},),
        "set_tags": ({"t": "v"},),
    }[what]
    with ctx.ml.start_run() as run:
        returned = ctx.call(getattr(ctx.ml, what), *args, synchronous=True)
    view = ctx.run_view(run.info.run_id)
    return [returned, view["metrics"], view["params"], _user_tags(view)]


@case("client_log_batch_synchronous_false")
def client_log_batch_synchronous_false(ctx: Ctx, _: Any) -> Any:
    E = ctx.entities
    run_id = ctx.new_run()
    handle = ctx.client.log_batch(run_id, metrics=[E.Metric("m", 1.0, 1, 0)], synchronous=False)
    waited = ctx.call(handle.wait) if hasattr(handle, "wait") else "no wait()"
    return [waited, ctx.run_view(run_id)["metrics"]]


# -- log_batch sizes ---------------------------------------------------------------------------
BATCH_SIZES = [
    ("metrics_1000", (1000, 0, 0)),
    ("metrics_1001", (1001, 0, 0)),
    ("metrics_2500", (2500, 0, 0)),
    ("params_100", (0, 100, 0)),
    ("params_101", (0, 101, 0)),
    ("params_250", (0, 250, 0)),
    ("tags_101", (0, 0, 101)),
    ("mixed_over", (1001, 101, 101)),
    ("mixed_total_over_1000", (900, 100, 100)),
]


@case("log_batch_size", BATCH_SIZES)
def log_batch_size(ctx: Ctx, sizes: tuple[int, int, int]) -> Any:
    E = ctx.entities
    n_metrics, n_params, n_tags = sizes
    run_id = ctx.new_run()
    outcome = ctx.call(
        ctx.client.log_batch,
        run_id,
        metrics=[E.Metric("m", float(i), 1000 + i, i) for i in range(n_metrics)],
        params=[E.Param(f"p{i}", str(i)) for i in range(n_params)],
        tags=[E.RunTag(f"t{i}", str(i)) for i in range(n_tags)],
    )
    view = ctx.run_view(run_id)
    return {
        "call": outcome,
        "points": len(ctx.history(run_id, "m")),
        "params": len(view["params"]),
        "tags": len(_user_tags(view)),
    }


# -- reads -------------------------------------------------------------------------------------
@case("get_metric_history_shape", [0, 3])
def get_metric_history_shape(ctx: Ctx, n: int) -> Any:
    run_id = ctx.new_run()
    for i in range(n):
        ctx.client.log_metric(run_id, "m", float(i), timestamp=10 + i, step=i)
    history = ctx.client.get_metric_history(run_id, "m")
    return {
        "is_list": isinstance(history, list),
        "token": getattr(history, "token", "absent"),
        "type": type(history).__name__,
        "points": ctx.norm([(m.key, m.step, m.value, m.timestamp) for m in history]),
    }


@case("run_to_dictionary_keys", [("plain", False), ("with_input", True)])
def run_to_dictionary_keys(ctx: Ctx, with_input: bool) -> Any:
    E = ctx.entities
    run_id = ctx.new_run()
    ctx.client.log_metric(run_id, "m", 1.0, timestamp=5, step=0)
    ctx.client.log_param(run_id, "p", "v")
    if with_input:
        dataset = E.Dataset("ds", "abc123", "local", '{"uri": "/tmp/x"}')
        ctx.client.log_inputs(
            run_id, [E.DatasetInput(dataset, [E.InputTag("mlflow.data.context", "train")])]
        )
    d = ctx.client.get_run(run_id).to_dictionary()
    data = {k: v for k, v in d["data"].items() if k != "tags"}
    out = {"keys": sorted(d), "info_keys": sorted(d["info"]), "data": data}
    if "inputs" in d:
        out["inputs"] = d["inputs"]
    if "outputs" in d:
        out["outputs"] = d["outputs"]
    return out


@case("dataset_logged_twice", [("other_context", ("train", "eval")), ("same", ("train", "train"))])
def dataset_logged_twice(ctx: Ctx, contexts: tuple[str, str]) -> Any:
    E = ctx.entities
    run_id = ctx.new_run()
    dataset = E.Dataset("ds", "abc123", "local", '{"uri": "/tmp/x"}')
    for context in contexts:
        ctx.client.log_inputs(
            run_id, [E.DatasetInput(dataset, [E.InputTag("mlflow.data.context", context)])]
        )
    inputs = ctx.client.get_run(run_id).inputs.dataset_inputs
    found = {
        context: len(ctx.client.search_runs([ctx.exp_id], f"datasets.context = '{context}'"))
        for context in ("train", "eval")
    }
    return {
        "inputs": sorted(sorted((t.key, t.value) for t in i.tags) for i in inputs),
        "found_by_context": found,
    }
