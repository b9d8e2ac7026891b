"""Differential cases: search_runs and search_experiments, fluent and client."""

from __future__ import annotations

from typing import Any

from diff_harness import Ctx, case


def _three_runs(ctx: Ctx) -> list[str]:
    ids = []
    for i, (solver, acc) in enumerate([("auto", 0.7), ("lbfgs", 0.9), ("auto", 0.8)]):
        with ctx.ml.start_run(run_name=f"r{i}") as run:
            ctx.ml.log_param("solver", solver)
            ctx.ml.log_metric("acc", acc)
            ctx.ml.set_tag("team", "a" if i < 2 else "b")
        ctx.name_id(run.info.run_id, f"<r{i}>")
        ids.append(run.info.run_id)
    return ids


FILTERS = [
    ("none", ""),
    ("metric_gt", "metrics.acc > 0.75"),
    ("param_eq", "params.solver = 'auto'"),
    ("tag_and_metric", "tags.team = 'a' and metrics.acc >= 0.9"),
    ("like", "params.solver LIKE 'l%'"),
    ("run_name", "attributes.run_name = 'r1'"),
    ("status", "attributes.status = 'FINISHED'"),
    ("missing_key", "metrics.nope > 0"),
    ("bad_syntax", "metrics.acc >> 1"),
    ("bad_entity", "foo.acc > 1"),
]


@case("search_runs_filter", FILTERS)
def search_runs_filter(ctx: Ctx, filter_string: str) -> Any:
    _three_runs(ctx)
    outcome = ctx.call(
        ctx.ml.search_runs,
        filter_string=filter_string,
        output_format="list",
        order_by=["metrics.acc DESC"],
    )
    if outcome[0] != "ok":
        return outcome
    runs = ctx.ml.search_runs(
        filter_string=filter_string, output_format="list", order_by=["metrics.acc DESC"]
    )
    return [ctx.norm(r.info.run_id) for r in runs]


ORDERS = [
    ("metric_asc", ["metrics.acc ASC"]),
    ("param_then_metric", ["params.solver ASC", "metrics.acc DESC"]),
    ("name_desc", ["attributes.run_name DESC"]),
    ("bad", ["metrics.acc SIDEWAYS"]),
]


@case("search_runs_order", ORDERS)
def search_runs_order(ctx: Ctx, order_by: list[str]) -> Any:
    _three_runs(ctx)
    outcome = ctx.call(ctx.client.search_runs, [ctx.exp_id], "", order_by=order_by)
    if outcome[0] != "ok":
        return outcome
    return [
        ctx.norm(r.info.run_id) for r in ctx.client.search_runs([ctx.exp_id], "", order_by=order_by)
    ]


@case("search_runs_output_format", ["list", "pandas", "bad"])
def search_runs_output_format(ctx: Ctx, output_format: str) -> Any:
    _three_runs(ctx)
    try:
        found = ctx.ml.search_runs(output_format=output_format, order_by=["metrics.acc ASC"])
    except Exception as exc:  # noqa: BLE001
        return ctx.error(exc).as_tuple()
    if output_format == "list":
        return [type(r).__name__ for r in found]
    columns = sorted(c for c in found.columns if not c.startswith("tags.mlflow.source"))
    return {"columns": columns, "rows": len(found), "acc": list(found["metrics.acc"])}


@case("search_runs_paging", [1, 2, 5])
def search_runs_paging(ctx: Ctx, page: int) -> Any:
    _three_runs(ctx)
    seen, token, pages = [], None, 0
    while True:
        found = ctx.client.search_runs(
            [ctx.exp_id], "", max_results=page, order_by=["metrics.acc ASC"], page_token=token
        )
        seen += [ctx.norm(r.info.run_id) for r in found]
        pages += 1
        token = found.token
        if not token or pages > 10:
            return {"seen": seen, "pages": pages}


@case("search_experiments", [("by_name", "name LIKE 'diff-%'"), ("bad", "name >> 'x'")])
def search_experiments(ctx: Ctx, filter_string: str) -> Any:
    outcome = ctx.call(ctx.ml.search_experiments, filter_string=filter_string)
    if outcome[0] != "ok":
        return outcome
    found = ctx.ml.search_experiments(filter_string=filter_string)
    return ctx.exp_id in [e.experiment_id for e in found]


SAMPLES = [
    (f"{label}_{m}", (per_step, m))
    for label, per_step in (("one_per_step", 1), ("two_per_step", 2))
    for m in (1, 2, 7, 10, 150)
]


@case("history_bulk_interval_sample", SAMPLES, server=False)  # MLflow's REST client lacks it
def history_bulk_interval_sample(ctx: Ctx, arg: tuple[int, int]) -> Any:
    """The store's sampled history (what ``metrics/get-history-bulk-interval`` answers)."""
    per_step, max_results = arg
    run_id = ctx.new_run()
    metrics = [ctx.entities.Metric("m", float(i), 1000 + i, i // per_step) for i in range(100)]
    ctx.client.log_batch(run_id, metrics=metrics)
    if ctx.impl.is_mlflow:
        from mlflow.tracking._tracking_service.utils import _get_store

        store = _get_store()
    else:
        store = ctx.client.store
    found = store.get_metric_history_bulk_interval([run_id], "m", max_results, None, None)
    return [(getattr(m, "metric", m).step, getattr(m, "metric", m).value) for m in found]
