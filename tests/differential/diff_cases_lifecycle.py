"""Differential cases: starting, resuming, ending and deleting runs and experiments."""

from __future__ import annotations

import os
from typing import Any

from diff_harness import Ctx, case

MISSING_RUN = "0" * 31 + "2"


@case("start_run_twice")
def start_run_twice(ctx: Ctx, _: Any) -> Any:
    ctx.ml.start_run()
    return ctx.call(ctx.ml.start_run)


@case("start_run_nested")
def start_run_nested(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as parent, ctx.ml.start_run(nested=True, run_name="child") as child:
        child_id = child.info.run_id
    return [ctx.run_view(parent.info.run_id), ctx.run_view(child_id)]


@case("start_run_tags_and_description", server=False)  # MLflow's REST client: str tags only
def start_run_tags_and_description(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run(run_name="named", tags={"a": 1, "b": "x"}, description="notes") as run:
        pass
    return ctx.run_view(run.info.run_id)


@case("start_run_name_vs_tag", [("same", "n1"), ("different", "n2")])
def start_run_name_vs_tag(ctx: Ctx, tag_name: str) -> Any:
    outcome = ctx.call(ctx.ml.start_run, run_name="n1", tags={"mlflow.runName": tag_name})
    run = ctx.ml.active_run()
    return [outcome if run is None else "started", ctx.run_view(run.info.run_id) if run else None]


@case("end_run_status", ["FINISHED", "FAILED", "KILLED", "SCHEDULED", "RUNNING", "bogus"])
def end_run_status(ctx: Ctx, status: str) -> Any:
    run = ctx.ml.start_run()
    outcome = ctx.call(ctx.ml.end_run, status)
    still = ctx.ml.active_run() is not None
    return [outcome, still, ctx.run_view(run.info.run_id)]


class _Boom(Exception):
    pass


@case("context_manager_exit", ["none", "exception", "keyboard_interrupt", "system_exit"])
def context_manager_exit(ctx: Ctx, how: str) -> Any:
    errors = {
        "exception": _Boom,
        "keyboard_interrupt": KeyboardInterrupt,
        "system_exit": SystemExit,
    }
    run_id = None
    try:
        with ctx.ml.start_run() as run:
            run_id = run.info.run_id
            if how != "none":
                raise errors[how]()
    except (_Boom, KeyboardInterrupt, SystemExit):
        pass
    return ctx.run_view(run_id)


@case("resume_run_with_new_name")
def resume_run_with_new_name(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run(run_name="old") as run:
        ctx.ml.log_param("p", 1)
    with ctx.ml.start_run(run_id=run.info.run_id, run_name="new") as again:
        status_inside = ctx.client.get_run(again.info.run_id).info.status
    return [status_inside, ctx.run_view(run.info.run_id)]


@case("resume_run_missing")
def resume_run_missing(ctx: Ctx, _: Any) -> Any:
    return [ctx.call(ctx.ml.start_run, run_id=MISSING_RUN), ctx.ml.active_run() is None]


@case("resume_run_deleted", deliberate="clearer-error-codes", server_deliberate=None)
def resume_run_deleted(ctx: Ctx, _: Any) -> Any:
    run_id = ctx.new_run()
    ctx.client.delete_run(run_id)
    return [ctx.call(ctx.ml.start_run, run_id=run_id), ctx.ml.active_run() is None]


@case("resume_run_finished_keeps_data")
def resume_run_finished_keeps_data(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_metric("m", 1.0, step=0)
    with ctx.ml.start_run(run_id=run.info.run_id):
        ctx.ml.log_metric("m", 2.0, step=1)
    return [ctx.run_view(run.info.run_id), ctx.history(run.info.run_id, "m")]


@case("run_id_env_used_once")
def run_id_env_used_once(ctx: Ctx, _: Any) -> Any:
    run_id = ctx.new_run()
    with ctx.env(MLFLOW_RUN_ID=run_id):
        with ctx.ml.start_run() as first:
            pass
        with ctx.ml.start_run() as second:
            pass
        env_after = os.environ.get("MLFLOW_RUN_ID")
    ctx.name_id(second.info.run_id)
    return [first.info.run_id, second.info.run_id == run_id, env_after]


@case("start_run_missing_experiment")
def start_run_missing_experiment(ctx: Ctx, _: Any) -> Any:
    return ctx.call(ctx.ml.start_run, experiment_id="987654321")


@case("start_run_deleted_experiment")
def start_run_deleted_experiment(ctx: Ctx, _: Any) -> Any:
    exp = ctx.client.create_experiment(f"del-{ctx.exp_id}")
    ctx.client.delete_experiment(exp)
    return ctx.call(ctx.ml.start_run, experiment_id=exp)


@case("last_active_run_after_end")
def last_active_run_after_end(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_metric("m", 3.0)
    last = ctx.ml.last_active_run()
    return [last.info.run_id == run.info.run_id, last.data.metrics, ctx.ml.active_run()]


@case("implicit_run_on_log")
def implicit_run_on_log(ctx: Ctx, _: Any) -> Any:
    ctx.ml.log_metric("m", 1.0)
    run = ctx.ml.active_run()
    started = run is not None
    ctx.ml.end_run()
    return [started, ctx.run_view(run.info.run_id) if run else None]


@case("delete_and_restore_run")
def delete_and_restore_run(ctx: Ctx, _: Any) -> Any:
    run_id = ctx.new_run()
    steps = [ctx.call(ctx.client.delete_run, run_id), ctx.run_view(run_id)["lifecycle_stage"]]
    steps += [ctx.call(ctx.client.delete_run, run_id), ctx.call(ctx.client.restore_run, run_id)]
    steps += [ctx.run_view(run_id)["lifecycle_stage"], ctx.call(ctx.client.restore_run, run_id)]
    return steps


@case("delete_tag", [("present", True), ("absent", False)])
def delete_tag(ctx: Ctx, present: bool) -> Any:
    run_id = ctx.new_run()
    if present:
        ctx.client.set_tag(run_id, "t", "v")
    return [ctx.call(ctx.client.delete_tag, run_id, "t"), "t" in ctx.run_view(run_id)["tags"]]


@case("set_terminated_status", ["FINISHED", "FAILED", "KILLED", "bogus"])
def set_terminated_status(ctx: Ctx, status: str) -> Any:
    run_id = ctx.new_run()
    return [ctx.call(ctx.client.set_terminated, run_id, status), ctx.run_view(run_id)]


@case("update_run_name")
def update_run_name(ctx: Ctx, _: Any) -> Any:
    run_id = ctx.new_run(run_name="before")
    return [ctx.call(ctx.client.update_run, run_id, name="after"), ctx.run_view(run_id)]


@case("set_runname_tag_renames")
def set_runname_tag_renames(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run(run_name="before") as run:
        ctx.ml.set_tag("mlflow.runName", "after")
    return ctx.run_view(run.info.run_id)


@case("create_run_shape")
def create_run_shape(ctx: Ctx, _: Any) -> Any:
    run = ctx.client.create_run(ctx.exp_id, tags={"k": "v"}, run_name="r")
    ctx.name_id(run.info.run_id)
    return [
        run.info.status,
        run.info.lifecycle_stage,
        run.info.run_name,
        run.info.end_time,
        dict(run.data.tags),
        ctx.run_view(run.info.run_id),
    ]


# -- experiments -------------------------------------------------------------------------------
@case("experiment_delete_twice")
def experiment_delete_twice(ctx: Ctx, _: Any) -> Any:
    exp = ctx.client.create_experiment(f"x-{ctx.exp_id}")
    first = ctx.call(ctx.client.delete_experiment, exp)
    second = ctx.call(ctx.client.delete_experiment, exp)
    return [first, second, ctx.client.get_experiment(exp).lifecycle_stage]


@case("experiment_restore_active")
def experiment_restore_active(ctx: Ctx, _: Any) -> Any:
    exp = ctx.client.create_experiment(f"x-{ctx.exp_id}")
    return [
        ctx.call(ctx.client.restore_experiment, exp),
        ctx.client.get_experiment(exp).lifecycle_stage,
    ]


@case("experiment_delete_restore")
def experiment_delete_restore(ctx: Ctx, _: Any) -> Any:
    exp = ctx.client.create_experiment(f"x-{ctx.exp_id}")
    run = ctx.client.create_run(exp)
    ctx.name_id(run.info.run_id)
    ctx.client.delete_experiment(exp)
    deleted = ctx.client.get_run(run.info.run_id).info.lifecycle_stage
    ctx.client.restore_experiment(exp)
    return [
        deleted,
        ctx.client.get_run(run.info.run_id).info.lifecycle_stage,
        ctx.client.get_experiment(exp).lifecycle_stage,
    ]


@case("experiment_missing_ops", ["get", "delete", "restore", "rename", "set_tag"])
def experiment_missing_ops(ctx: Ctx, what: str) -> Any:
    c = ctx.client
    calls = {
        "get": lambda: c.get_experiment("987654321"),
        "delete": lambda: c.delete_experiment("987654321"),
        "restore": lambda: c.restore_experiment("987654321"),
        "rename": lambda: c.rename_experiment("987654321", "zz"),
        "set_tag": lambda: c.set_experiment_tag("987654321", "k", "v"),
    }
    return ctx.call(calls[what])


@case(
    "experiment_create_names",
    [
        ("dup", "dup"),
        ("empty", ""),
        ("blank", "  "),
        ("none", None),
        ("long_500", "e" * 500),
        ("long_501", "e" * 501),
    ],
)
def experiment_create_names(ctx: Ctx, name: Any) -> Any:
    if name == "dup":
        name = f"dup-{ctx.exp_id}"
        ctx.client.create_experiment(name)
    if isinstance(name, str) and name.startswith("e"):
        name = f"{ctx.exp_id}-{name}"[: len(name)]
    outcome = ctx.call(ctx.client.create_experiment, name)
    return outcome[0] if outcome[0] == "ok" else outcome


@case("experiment_rename_to_taken", deliberate="clearer-error-codes")
def experiment_rename_to_taken(ctx: Ctx, _: Any) -> Any:
    a = ctx.client.create_experiment(f"a-{ctx.exp_id}")
    ctx.client.create_experiment(f"b-{ctx.exp_id}")
    return ctx.call(ctx.client.rename_experiment, a, f"b-{ctx.exp_id}")


@case("set_experiment_deleted")
def set_experiment_deleted(ctx: Ctx, _: Any) -> Any:
    name = f"gone-{ctx.exp_id}"
    exp = ctx.client.create_experiment(name)
    ctx.client.delete_experiment(exp)
    return [
        ctx.call(ctx.ml.set_experiment, name),
        ctx.call(ctx.ml.set_experiment, experiment_id=exp),
    ]


@case("set_experiment_args", [("both", 2), ("neither", 0)])
def set_experiment_args(ctx: Ctx, n: int) -> Any:
    if n == 2:
        return ctx.call(ctx.ml.set_experiment, f"n-{ctx.exp_id}", ctx.exp_id)
    return ctx.call(ctx.ml.set_experiment)


@case("set_experiment_creates")
def set_experiment_creates(ctx: Ctx, _: Any) -> Any:
    name = f"new-{ctx.exp_id}"
    exp = ctx.ml.set_experiment(name)
    ctx.name_id(exp.experiment_id, "<new>")
    return [
        exp.name == name,
        exp.lifecycle_stage,
        ctx.ml.get_experiment_by_name(name).experiment_id,
    ]


@case("experiment_tags")
def experiment_tags(ctx: Ctx, _: Any) -> Any:
    ctx.ml.set_experiment_tag("a", 1)
    ctx.ml.set_experiment_tags({"b": "x", "c": None})
    ctx.client.set_experiment_tag(ctx.exp_id, "d", "y")
    ctx.client.delete_experiment_tag(ctx.exp_id, "d")
    gone = ctx.call(ctx.client.delete_experiment_tag, ctx.exp_id, "d")
    tags = ctx.client.get_experiment(ctx.exp_id).tags
    return [gone, {k: v for k, v in tags.items() if not k.startswith("mlflow.")}]


@case("get_experiment_by_name_missing")
def get_experiment_by_name_missing(ctx: Ctx, _: Any) -> Any:
    return ctx.call(ctx.ml.get_experiment_by_name, "no-such-experiment-anywhere")


@case("get_run_missing")
def get_run_missing(ctx: Ctx, _: Any) -> Any:
    return ctx.call(ctx.ml.get_run, MISSING_RUN)


@case("get_parent_run")
def get_parent_run(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as parent, ctx.ml.start_run(nested=True) as child:
        pass
    ctx.name_id(parent.info.run_id, "<parent>")
    found = ctx.ml.get_parent_run(child.info.run_id)
    none = ctx.ml.get_parent_run(parent.info.run_id)
    return [found.info.run_id, none]
