"""Autologging overhead on a PyTorch Lightning epoch: no tracking vs mltrail's autolog vs MLflow's.

    .venv/bin/python benchmarks/autolog_bench.py             # 3 rounds of every configuration
    .venv/bin/python benchmarks/autolog_bench.py --quick     # smoke run
    .venv/bin/python benchmarks/autolog_bench.py --json out.json

The module is the seed's MNIST classifier (784 -> 128 -> 256 -> 10, log-softmax, Adam) on
synthetic MNIST-shaped tensors. Each configuration runs in its own process, in a fresh folder on
a new SQLite store, after a warm-up fit (imports, store creation, first-call costs are not
counted). Configurations run interleaved, round after round, each round starting one
configuration further along, so that none always runs right after the same one (on a shared
machine, a fixed order can move one configuration's figures by several points), and the
report takes medians.

Timed per configuration:
* epoch time: from one ``on_train_epoch_start`` to the next (the last to ``on_train_end``), so
  everything autologging does at epoch end (metrics, checkpoints) is inside; both as wall
  time and as the process's CPU time (every thread of it, so background writers count). On a
  shared machine the CPU time is the steadier figure: wall time also counts other programs;
* fixed cost of a fit: the fit's wall time minus its epochs (params at start, model at the end).

MLflow runs in this same environment (``mlflow`` with ``mlflow.pytorch``): both libraries are
asked for their defaults (``checkpoint=True``, ``log_models=True``) and, separately, for
per-step metrics (``log_every_n_step=1``).
"""

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


# -- the child: one configuration, one fit ---------------------------------------------------
def _child(impl: str, options: dict[str, Any], epochs: int, batches: int) -> dict[str, Any]:
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
        mltrail.pytorch.autolog(**options)
    elif impl == "mlflow":
        import mlflow
        import mlflow.pytorch

        mlflow.set_tracking_uri("sqlite:///" + os.path.abspath("bench.db"))
        mlflow.pytorch.autolog(**options)
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
            self.starts: list[tuple[float, float]] = []
            self.end = (0.0, 0.0)

        def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
            self.starts.append((time.perf_counter(), time.process_time()))

        def on_train_end(self, trainer: Any, module: Any) -> None:
            self.end = (time.perf_counter(), time.process_time())

        def epoch_times(self, which: int) -> list[float]:
            bounds = [*self.starts, self.end]
            return [b[which] - a[which] for a, b in zip(bounds, bounds[1:], strict=False)]

    batch = 64
    x = torch.randn(batches * batch, 1, 28, 28)
    y = torch.randint(0, 10, (batches * batch,))
    train = DataLoader(TensorDataset(x, y), batch_size=batch)
    val = DataLoader(TensorDataset(x[: 8 * batch], y[: 8 * batch]), batch_size=batch)

    def fit(max_epochs: int, limit: int | None = None) -> tuple[float, EpochClock]:
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
        started = time.perf_counter()
        trainer.fit(MNISTClassifier(), train, val)
        return time.perf_counter() - started, clock

    fit(1, limit=2)  # warm-up: imports, store, first calls
    hook_cpu.clear()
    total, clock = fit(epochs)
    epoch_times = clock.epoch_times(0)
    return {
        "epoch_times": epoch_times,
        "epoch_cpu": clock.epoch_times(1),
        "fit": total,
        "fixed": total - sum(epoch_times),
        # CPU seconds inside the autologging callbacks' per-batch and per-epoch hooks during the
        # timed fit (mltrail's, or MLflow's two: metrics and checkpoints)
        "hook_cpu": sum(v for k, v in hook_cpu.items() if k != "on_train_start"),
    }


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


# -- the parent: run every configuration, interleaved, and report ----------------------------
def _run_child(name: str, epochs: int, batches: int) -> dict[str, Any]:
    impl, options = CONFIGS[name]
    with tempfile.TemporaryDirectory(prefix="autolog-bench-") as folder:
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", MLTRAIL_QUIET="1", DO_NOT_TRACK="1")
        for var in ("MLFLOW_TRACKING_URI", "MLTRAIL_TRACKING_URI"):
            env.pop(var, None)
        done = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                json.dumps({"impl": impl, "options": options}),
                "--epochs",
                str(epochs),
                "--batches",
                str(batches),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches", type=int, default=200, help="training batches per epoch")
    parser.add_argument("--json", help="also write the raw timings here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        result = _child(spec["impl"], spec["options"], args.epochs, args.batches)
        print(RESULT_PREFIX + json.dumps(result))
        return
    if args.quick:
        args.rounds, args.epochs, args.batches = 1, 2, 30

    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
    names = list(CONFIGS)
    for round_no in range(args.rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            raw[name].append(_run_child(name, args.epochs, args.batches))
            print(f"round {round_no + 1}/{args.rounds}: {name} done", file=sys.stderr)

    import mlflow

    def epoch_median(name: str, field: str = "epoch_times") -> float:
        # Epoch 0 carries first-epoch costs in every configuration; the rest are steady state.
        return statistics.median(t for r in raw[name] for t in r[field][1:] or r[field])

    base = epoch_median("no tracking")
    base_cpu = epoch_median("no tracking", "epoch_cpu")
    print(
        f"\nLightning epoch, MNIST-shaped module, {args.batches} batches of 64, "
        f"{args.epochs} epochs, {args.rounds} rounds (MLflow {mlflow.__version__})\n"
    )
    print(
        f"{'configuration':<22} {'epoch CPU (s)':>13} {'overhead':>9} "
        f"{'epoch wall (s)':>14} {'overhead':>9} {'fixed per fit (s)':>18}"
    )
    for name in CONFIGS:
        epoch, cpu = epoch_median(name), epoch_median(name, "epoch_cpu")
        fixed = statistics.median(r["fixed"] for r in raw[name])
        wall_over = "" if name == "no tracking" else f"{100 * (epoch - base) / base:+.1f}%"
        cpu_over = "" if name == "no tracking" else f"{100 * (cpu - base_cpu) / base_cpu:+.1f}%"
        print(f"{name:<22} {cpu:>13.3f} {cpu_over:>9} {epoch:>14.3f} {wall_over:>9} {fixed:>18.3f}")
    print("\nCPU time inside the autologging callbacks' hooks, as a share of the epochs' CPU time:")
    for name, (impl, _options) in CONFIGS.items():
        if impl in ("mltrail", "mlflow"):
            shares = [100 * r["hook_cpu"] / sum(r["epoch_cpu"]) for r in raw[name]]
            print(f"  {name:<22} {statistics.median(shares):.2f}%")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=2)


if __name__ == "__main__":
    main()
