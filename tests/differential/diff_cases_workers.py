"""Differential cases: points logged in worker processes (fork, joblib, DataLoader workers)
must all be stored, as MLflow stores them."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from diff_harness import Ctx, case

_CTX: Any = None  # the scenario's context, inherited by forked children
_RUN: str = ""


def _child_client(rank: int) -> None:
    for step in range(5):
        _CTX.client.log_metric(_RUN, f"w{rank}", float(step), step=step)


def _child_fluent(rank: int) -> None:
    for step in range(5):
        _CTX.ml.log_metric(f"w{rank}", float(step), step=step, run_id=_RUN)


def _child_exit_now(rank: int) -> None:
    _child_client(rank)
    os._exit(0)


def _child_batch(rank: int) -> None:
    E = _CTX.entities
    _CTX.client.log_batch(
        _RUN,
        metrics=[E.Metric(f"w{rank}", float(s), 1, s) for s in range(5)],
        params=[E.Param(f"p{rank}", "v")],
    )
    _CTX.client.set_tag(_RUN, f"t{rank}", "v")


CHILDREN = {
    "client": _child_client,
    "fluent_run_id": _child_fluent,
    "os_exit": _child_exit_now,
    "batch_and_tag": _child_batch,
}


def _read_back(ctx: Ctx, run_id: str, ranks: int) -> Any:
    view = ctx.run_view(run_id)
    return {
        "histories": {r: ctx.history(run_id, f"w{r}") for r in range(ranks)},
        "params": view["params"],
        "tags": {k: v for k, v in view["tags"].items() if not k.startswith("mlflow.")},
    }


@case("fork_children_log", list(CHILDREN))
def fork_children_log(ctx: Ctx, how: str) -> Any:
    global _CTX, _RUN
    with ctx.ml.start_run() as run:
        ctx.ml.log_metric("parent", 1.0)  # the parent has buffered work when it forks
        _CTX, _RUN = ctx, run.info.run_id
        fork = multiprocessing.get_context("fork")
        procs = [fork.Process(target=CHILDREN[how], args=(r,)) for r in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        codes = [p.exitcode for p in procs]
    return {
        "exit": codes,
        **_read_back(ctx, run.info.run_id, 2),
        "parent": ctx.history(run.info.run_id, "parent"),
    }


@case("fork_pool_map")
def fork_pool_map(ctx: Ctx, _: Any) -> Any:
    global _CTX, _RUN
    run_id = ctx.new_run()
    _CTX, _RUN = ctx, run_id
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_child_client, range(3))
    return _read_back(ctx, run_id, 3)


@case("joblib_workers", ["multiprocessing", "loky"])
def joblib_workers(ctx: Ctx, backend: str) -> Any:
    import joblib

    run_id = ctx.new_run()
    uri = ctx.impl.tracking_uri
    module = ctx.ml.__name__
    joblib.Parallel(n_jobs=2, backend=backend)(
        joblib.delayed(_log_from_worker)(module, uri, run_id, r) for r in range(3)
    )
    return _read_back(ctx, run_id, 3)


def _log_from_worker(module: str, uri: str, run_id: str, rank: int) -> int:
    import importlib

    lib = importlib.import_module(module)
    client = lib.MlflowClient(uri)
    for step in range(5):
        client.log_metric(run_id, f"w{rank}", float(step), step=step)
    return rank


class _Points:
    """A tiny dataset whose workers log one point per item they load."""

    def __init__(self, module: str, uri: str, run_id: str) -> None:
        self.module, self.uri, self.run_id = module, uri, run_id

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> Any:
        import importlib

        import torch

        lib = importlib.import_module(self.module)
        lib.MlflowClient(self.uri).log_metric(self.run_id, "loaded", float(i), step=i)
        return torch.tensor([float(i)])


@case("dataloader_workers")
def dataloader_workers(ctx: Ctx, _: Any) -> Any:
    import torch.utils.data

    run_id = ctx.new_run()
    data = _Points(ctx.ml.__name__, ctx.impl.tracking_uri, run_id)
    loader = torch.utils.data.DataLoader(data, batch_size=2, num_workers=2)
    total = float(sum(batch.sum() for batch in loader))
    return {"total": total, "loaded": ctx.history(run_id, "loaded")}
