"""A small demo: a few ridge-regression-like runs with params, metric curves and artifacts.

Run it in any folder; it logs to ./mltrail.db and ./mltrail-artifacts, then `mltrail ui`.
"""

from __future__ import annotations

import math
import random

import mltrail

experiment = mltrail.set_experiment("penguins")
already = mltrail.search_runs(
    [experiment.experiment_id], "tags.mlflow.runName = 'sweep'", output_format="list"
)
if already:  # the demo logs its sweep once; starting it again only opens the UI
    print(f"The demo sweep is already in {mltrail.get_tracking_uri()}; open it with `mltrail ui`.")
    raise SystemExit(0)

with mltrail.start_run(run_name="sweep", description="A small **learning-rate** sweep.") as parent:
    for lr in (0.3, 0.1, 0.03):
        for seed in (0, 1):
            rng = random.Random(seed)
            with mltrail.start_run(run_name=f"lr-{lr}-seed-{seed}", nested=True):
                mltrail.log_params({"lr": lr, "seed": seed, "solver": "sgd"})
                mltrail.set_tag("team", "vision")
                loss = 2.0
                for step in range(300):
                    loss = loss * (1 - lr * 0.05) + rng.gauss(0, 0.01)
                    mltrail.log_metric("train_loss", max(loss, 0.0), step=step)
                    if step % 30 == 0:
                        mltrail.log_metric("eval_acc", 1 - math.exp(-step * lr / 40), step=step)
                mltrail.log_metrics({"final_acc": 1 - loss / 4, "auc": 0.8 + lr / 3})
                mltrail.log_dict({"lr": lr, "seed": seed}, "config.json")
                mltrail.log_text(f"trained with lr={lr}\n", "logs/train.log")
    mltrail.log_metric("best_acc", 0.95)

print(f"Logged runs to {mltrail.get_tracking_uri()}; open them with `mltrail ui`.")
