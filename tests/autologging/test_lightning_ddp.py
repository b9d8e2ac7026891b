"""Under distributed training only rank 0 logs: a real Lightning ``Trainer(strategy="ddp",
accelerator="cpu", devices=2)`` in a script of its own, so Lightning's own launcher starts the
second rank (it runs the script again with ``LOCAL_RANK=1``) and the two train together over
gloo. Autolog's checkpoint is written by rank 0 alone (``Trainer.save_checkpoint`` would wait
at a barrier the other rank never reaches)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mltrail
from mltrail.entities import LoggedModelStatus

pytest.importorskip("lightning")

HERE = Path(__file__).resolve().parent

SCRIPT = """
import os, sys
sys.path.insert(0, {here!r})
import lightning.pytorch as pl
import mltrail
from lightning_models import mnist_like_loaders, mnist_like_module

mltrail.pytorch.autolog()
train, val = mnist_like_loaders(batches=4, batch_size=8)
trainer = pl.Trainer(strategy="ddp", accelerator="cpu", devices=2, max_epochs=2,
                     logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, default_root_dir={root!r})
trainer.fit(mnist_like_module(pl, lr=0.05), train, val)
print("RANK", trainer.global_rank, "WORLD", trainer.world_size, flush=True)
"""


def test_only_rank_zero_logs_under_ddp(tmp_path: Path) -> None:
    store = "sqlite:///" + str(tmp_path / "ddp.db")
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT.format(here=str(HERE), root=str(tmp_path)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update({"MLTRAIL_TRACKING_URI": store, "PL_DISABLE_FORK": "1",
                "MASTER_ADDR": "127.0.0.1", "OMP_NUM_THREADS": "1"})
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RANK 0 WORLD 2" in done.stdout  # the launching process is rank 0 of two

    client = mltrail.TrailClient(store)
    runs = list(client.search_runs(["0"]))
    assert len(runs) == 1, [r.info.run_id for r in runs]
    [run] = runs
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "2"
    assert run.data.params["lr"] == "0.05"
    assert run.data.tags["mlflow.autologging"] == "pytorch"
    # One point per epoch: a second rank logging too would add a second run or points.
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [0, 1]
    assert [m.step for m in client.get_metric_history(run.info.run_id,
                                                      "train_loss_epoch")] == [0, 1]
    files = {f.path for f in client.list_artifacts(run.info.run_id, "checkpoints")}
    assert files == {"checkpoints/latest_checkpoint.pth",
                     "checkpoints/latest_checkpoint_metrics.json"}
    [output] = run.outputs.model_outputs
    assert client.get_logged_model(output.model_id).status == LoggedModelStatus.READY
