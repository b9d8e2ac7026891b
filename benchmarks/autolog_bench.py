"""Autologging overhead on a PyTorch Lightning epoch: no tracking vs mltrail's autolog vs MLflow's.

    .venv/bin/python benchmarks/autolog_bench.py             # 3 processes per library
    .venv/bin/python benchmarks/autolog_bench.py --rounds 4 --reps 2 --json out.json
    .venv/bin/python benchmarks/autolog_bench.py --quick     # smoke run

The module is the seed's MNIST classifier (784 -> 128 -> 256 -> 10, log-softmax, Adam) on
synthetic MNIST-shaped tensors, one CPU thread. Each library runs in its own processes (a fresh
folder, a new SQLite store); a process fits every configuration of its library *and* an
untracked baseline, ``--reps`` times each in rotating order, switching autologging on (with the
configuration's options) or off (``autolog(disable=True)``) before each fit, after one short
warm-up fit of each (imports, store creation, first calls are not counted). Rounds alternate
which library goes first.

Why the baseline lives in the same process: on this kind of machine two processes running the
very same fit differ by several percent (memory placement, CPU state), more than the overhead
being measured; within one process that difference cancels.

Reported per configuration:
* overhead: the median steady epoch (epochs after the first) against the same process's
  untracked median steady epoch, then the median over processes; as CPU time (every thread of
  the process, so background writers count) and as wall time. Epoch time runs from one
  ``on_train_epoch_start`` to the next (the last to ``on_train_end``), so what autologging does
  at epoch end (metrics, checkpoints) is inside. Even so, expect a few points of noise;
* autolog CPU: a direct count of what autologging spends, as a share of the epochs' CPU time:
  CPU time inside the autologging callbacks' per-batch and per-epoch hooks (mltrail's, or
  MLflow's metrics and checkpoint callbacks), plus the CPU time of the process's other threads
  beyond what they use untracked (the background writers). It moves far less with the
  machine's noise than whole epochs do;
* fixed cost of a fit: the fit's wall time minus its epochs (params at start, model at the end).

MLflow runs in this same environment (``mlflow`` with ``mlflow.pytorch``): both libraries are
asked for their defaults (``checkpoint=True``, ``log_models=True``) and, separately, for
per-step metrics (``log_every_n_step=1``)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

RESULT_PREFIX = "RESULT "
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "no tracking": ("none", {}),
    "mltrail autolog": ("mltrail", {}),
    "mltrail, no checkpoint": ("mltrail", {"checkpoint": False}),
    "MLflow autolog": ("mlflow", {}),
    "mltrail, every step": ("mltrail", {"log_every_n_step": 1}),
    "MLflow, every step": ("mlflow", {"log_every_n_step": 1}),
}


# -- the child: one library's configurations, fitted in turn in one process -----------------
def _child(impl: str, names: list[str], epochs: int, batches: int, reps: int) -> dict[str, Any]:
    """Fit every configuration in ``names`` (all of ``impl``, or "no tracking") ``reps`` times,
    in rotating order, in this one process: each configuration's epochs are then compared with
    the same process's untracked epochs, so what differs between processes (memory placement,
    CPU state) cancels out."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    import lightning.pytorch as pl
    from torch.nn import functional as F  # noqa: N812
    from torch.utils.data import DataLoader, TensorDataset

    hook_cpu: dict[str, float] = {}
    if impl == "mltrail":
        import mltrail

        _time_hooks(hook_cpu)
        mltrail.set_tracking_uri("sqlite:///" + os.path.abspath("bench.db"))
        switch = mltrail.pytorch.autolog
    else:
        import mlflow
        import mlflow.pytorch

        mlflow.set_tracking_uri("sqlite:///" + os.path.abspath("bench.db"))
        switch = mlflow.pytorch.autolog
        switch(disable=True)
        _time_mlflow_hooks(hook_cpu)

    class MNISTClassifier(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer_1 = torch.nn.Linear(28 * 28, 128)
            self.layer_2 = torch.nn.Linear(128, 256)
            self.layer_3 = torch.nn.Linear(256, 10)

        def forward(self, x: Any) -> Any:
            x = x.view(x.size(0), -1)
            x = torch.relu(self.layer_1(x))
            x = torch.relu(self.layer_2(x))
            return torch.log_softmax(self.layer_3(x), dim=1)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = F.nll_loss(self(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            out = self(x)
            self.log("val_loss", F.nll_loss(out, y))
            self.log("val_acc", (out.argmax(dim=1) == y).float().mean())

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    class EpochClock(pl.Callback):
        def __init__(self) -> None:
            self.starts: list[tuple[float, float, float]] = []
            self.end = (0.0, 0.0, 0.0)

        def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
            self.starts.append((time.perf_counter(), time.process_time(), time.thread_time()))

        def on_train_end(self, trainer: Any, module: Any) -> None:
            self.end = (time.perf_counter(), time.process_time(), time.thread_time())

        def epoch_times(self, which: int) -> list[float]:
            bounds = [*self.starts, self.end]
            return [b[which] - a[which] for a, b in zip(bounds, bounds[1:], strict=False)]

    batch = 64
    x = torch.randn(batches * batch, 1, 28, 28)
    y = torch.randint(0, 10, (batches * batch,))
    train = DataLoader(TensorDataset(x, y), batch_size=batch)
    val = DataLoader(TensorDataset(x[: 8 * batch], y[: 8 * batch]), batch_size=batch)

    def fit(name: str, max_epochs: int, limit: int | None = None) -> dict[str, Any]:
        options = CONFIGS[name][1]
        if CONFIGS[name][0] == "none":
            switch(disable=True)
        else:
            switch(**options)
        clock = EpochClock()
        trainer = pl.Trainer(
            max_epochs=max_epochs,
            callbacks=[clock],
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=False,
            accelerator="cpu",
            limit_train_batches=limit,
            limit_val_batches=limit,
        )
        hook_cpu.clear()
        started = time.perf_counter()
        trainer.fit(MNISTClassifier(), train, val)
        total = time.perf_counter() - started
        epoch_times = clock.epoch_times(0)
        return {
            "epoch_times": epoch_times,
            "epoch_cpu": clock.epoch_times(1),
            # CPU time of the process's other threads (background writers) during the epochs
            "background_cpu": sum(clock.epoch_times(1)) - sum(clock.epoch_times(2)),
            "fit": total,
            "fixed": total - sum(epoch_times),
            # CPU seconds inside the autologging callbacks' per-batch and per-epoch hooks
            # (mltrail's, or MLflow's two: metrics and checkpoints)
            "hook_cpu": sum(v for k, v in hook_cpu.items() if k != "on_train_start"),
        }

    for name in names:  # warm-up: imports, store, first calls of every configuration
        fit(name, 1, limit=2)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(fit(name, epochs))
    return results


def _time_hooks(spent: dict[str, float]) -> None:
    """Count the CPU time mltrail's Lightning callback spends in each hook: a direct measure
    of what autologging adds, which other programs on the machine move much less than the
    epoch's own time."""
    from mltrail.autologging.pytorch import lightning_callback

    _wrap_hooks(lightning_callback.AutologHooks, spent, (
        "on_train_start", "on_train_batch_start", "on_train_batch_end", "on_train_epoch_end",
    ))  # fmt: skip


def _time_mlflow_hooks(spent: dict[str, float]) -> None:
    """The same measure for MLflow's two Lightning callbacks (its metrics callback and its
    checkpoint callback), every per-batch and per-epoch hook they define."""
    from mlflow.pytorch import _lightning_autolog as lightning_autolog

    per_run = ("on_train_batch_end", "on_train_epoch_end", "on_validation_epoch_end",
               "on_epoch_end")  # fmt: skip
    for cls in (
        getattr(lightning_autolog, "__MlflowPLCallback"),
        lightning_autolog.MlflowModelCheckpointCallback,
    ):
        _wrap_hooks(cls, spent, tuple(n for n in per_run if n in vars(cls)), prefix=cls.__name__)


def _wrap_hooks(
    cls: Any, spent: dict[str, float], names: tuple[str, ...], prefix: str = ""
) -> None:
    for name in names:
        original = getattr(cls, name)
        key = f"{prefix}.{name}" if prefix else name

        def timed(self: Any, *args: Any, _original: Any = original, _key: str = key) -> Any:
            started = time.process_time()
            try:
                return _original(self, *args)
            finally:
                spent[_key] = spent.get(_key, 0.0) + time.process_time() - started

        setattr(cls, name, timed)


# -- the parent: one process per library and round, and the report ------------------------
GROUPS = {
    "mltrail": ["no tracking", *(n for n, (impl, _) in CONFIGS.items() if impl == "mltrail")],
    "mlflow": ["no tracking", *(n for n, (impl, _) in CONFIGS.items() if impl == "mlflow")],
}


def _run_child(impl: str, epochs: int, batches: int, reps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="autolog-bench-") as folder:
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", MLTRAIL_QUIET="1", DO_NOT_TRACK="1")
        for var in ("MLFLOW_TRACKING_URI", "MLTRAIL_TRACKING_URI"):
            env.pop(var, None)
        spec = {"impl": impl, "names": GROUPS[impl], "reps": reps}
        done = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                json.dumps(spec),
                "--epochs",
                str(epochs),
                "--batches",
                str(batches),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"{impl} failed:\n{done.stderr[-3000:]}")


def _steady(fits: list[dict[str, Any]], field: str) -> float:
    # Epoch 0 carries first-epoch costs in every configuration; the rest are steady state.
    return statistics.median(t for r in fits for t in r[field][1:] or r[field])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--rounds", type=int, default=3, help="processes per library")
    parser.add_argument("--reps", type=int, default=2, help="fits per configuration per process")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches", type=int, default=200, help="training batches per epoch")
    parser.add_argument("--json", help="also write the raw timings here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        result = _child(spec["impl"], spec["names"], args.epochs, args.batches, spec["reps"])
        print(RESULT_PREFIX + json.dumps(result))
        return
    if args.quick:
        args.rounds, args.reps, args.epochs, args.batches = 1, 1, 2, 30

    # raw[impl] = one entry per process: {configuration: [fit, ...]}
    raw: dict[str, list[dict[str, Any]]] = {impl: [] for impl in GROUPS}
    for round_no in range(args.rounds):
        order = list(GROUPS) if round_no % 2 == 0 else list(GROUPS)[::-1]
        for impl in order:
            raw[impl].append(_run_child(impl, args.epochs, args.batches, args.reps))
            print(f"round {round_no + 1}/{args.rounds}: {impl} done", file=sys.stderr)

    import mlflow

    def overhead(impl: str, name: str, field: str) -> float:
        """Median over processes of (configuration / the same process's untracked epochs)."""
        ratios = [
            _steady(proc[name], field) / _steady(proc["no tracking"], field) - 1
            for proc in raw[impl]
        ]
        return 100 * statistics.median(ratios)

    print(
        f"\nLightning epoch, MNIST-shaped module, {args.batches} batches of 64, {args.epochs} "
        f"epochs; {args.rounds} processes per library, {args.reps} fits of each configuration "
        f"per process (MLflow {mlflow.__version__})\n"
    )
    print(
        f"{'configuration':<22} {'epoch CPU (s)':>13} {'overhead':>9} "
        f"{'epoch wall (s)':>14} {'overhead':>9} {'fixed per fit (s)':>18} {'autolog CPU':>11}"
    )
    for impl, names in GROUPS.items():
        for name in names:
            fits = [f for proc in raw[impl] for f in proc[name]]
            cpu, wall = _steady(fits, "epoch_cpu"), _steady(fits, "epoch_times")
            fixed = statistics.median(f["fixed"] for f in fits)
            label = name if name != "no tracking" else f"no tracking ({impl})"
            if name == "no tracking":
                cpu_over = wall_over = hooks = ""
            else:
                cpu_over = f"{overhead(impl, name, 'epoch_cpu'):+.1f}%"
                wall_over = f"{overhead(impl, name, 'epoch_times'):+.1f}%"
                base_bg = statistics.median(
                    f["background_cpu"] for proc in raw[impl] for f in proc["no tracking"]
                )
                share = statistics.median(
                    100 * (f["hook_cpu"] + f["background_cpu"] - base_bg) / sum(f["epoch_cpu"])
                    for f in fits
                )
                hooks = f"{share:.2f}%"
            print(
                f"{label:<22} {cpu:>13.3f} {cpu_over:>9} {wall:>14.3f} {wall_over:>9} "
                f"{fixed:>18.3f} {hooks:>11}"
            )
    print(
        "\noverhead: each configuration's steady epochs against the untracked epochs of the same"
        "\nprocess (median over processes). autolog CPU: CPU time inside the autologging"
        "\ncallbacks' per-batch and per-epoch hooks plus the CPU time of the process's other"
        "\nthreads beyond what they use untracked (background writers), as a share of the"
        "\nepochs' CPU time: a direct count of what autologging spends, which the machine's"
        "\nnoise moves much less than whole epochs."
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=2)


if __name__ == "__main__":
    main()
