"""Make the README's screenshot of the runs page (``docs/images/runs-page.png``).

    .venv/bin/python benchmarks/ui_screenshot.py [--out docs/images/runs-page.png] [--dark]

Logs a small, realistic hyper-parameter sweep (through the store), serves it, and shoots the
runs table in headless Chromium at 1280x800.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ui"))
from ui_helpers import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402

from mltrail.entities import Metric, Param, RunTag  # noqa: E402

NOW = int(time.time() * 1000)


def log_sweep(store) -> str:
    exp = store.create_experiment("resnet50-cifar10")
    rnd = random.Random(11)

    def run(name, params, start, status="FINISHED", parent=None, epochs=40, quality=1.0):
        tags = [RunTag("team", rnd.choice(["vision", "vision", "platform"])),
                RunTag("mlflow.source.name", "train.py"),
                RunTag("mlflow.source.git.commit", f"{rnd.getrandbits(160):040x}")]  # fmt: skip
        if parent:
            tags.append(RunTag("mlflow.parentRunId", parent))
        run_id = store.create_run(exp, rnd.choice(["ana", "bo", "chen"]), start, tags, name)
        run_id = run_id.info.run_id
        lr = float(params.get("lr", 0.01))
        points = []
        for epoch in range(epochs if status != "RUNNING" else epochs // 2):
            decay = math.exp(-epoch * lr * 9 * quality)
            ts = start + epoch * 45_000
            points += [
                Metric("train_loss", 2.3 * decay + 0.05 + rnd.uniform(0, 0.03), ts, epoch),
                Metric("val_loss", 2.3 * decay + 0.12 + rnd.uniform(0, 0.06), ts, epoch),
                Metric("val_accuracy", 0.95 - 0.85 * decay - rnd.uniform(0, 0.02), ts, epoch),
            ]
        store.write_batch(run_id, metrics=points,
                          params=[Param(k, str(v)) for k, v in params.items()])  # fmt: skip
        if status != "RUNNING":
            store.update_run_info(run_id, status=status, end_time=start + epochs * 45_000)
        return run_id

    start = NOW - 8 * 3_600_000
    parent = run("lr-sweep", {"search": "grid", "trials": 4}, start)
    for i, lr in enumerate((0.003, 0.01, 0.03, 0.1)):
        run(f"lr-sweep-trial-{i}", {"lr": lr, "optimizer": "sgd", "batch_size": 128},
            start + (i + 1) * 1000, parent=parent)  # fmt: skip
    names = ["baseline", "cosine-lr", "mixup", "cutmix", "label-smooth", "wide-head",
             "adamw-warmup", "sgd-nesterov", "bigger-batch", "ema-weights", "randaug",
             "long-schedule", "fp16", "dropout-0.3"]  # fmt: skip
    for i, name in enumerate(names):
        params = {
            "lr": rnd.choice([0.003, 0.01, 0.03]),
            "optimizer": rnd.choice(["sgd", "adamw"]),
            "batch_size": rnd.choice([128, 256, 512]),
            "weight_decay": rnd.choice([1e-4, 5e-4]),
            "epochs": 40,
        }
        status = "RUNNING" if i >= len(names) - 2 else ("FAILED" if i == 5 else "FINISHED")
        run(name, params, start + (i + 6) * 1_500_000, status, quality=rnd.uniform(0.8, 1.3))
    return exp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "images" / "runs-page.png"))
    parser.add_argument("--dark", action="store_true")
    args = parser.parse_args()
    live, server, thread = start_server(Path(tempfile.mkdtemp(prefix="mltrail-shot-")))
    exp = log_sweep(live.store)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800},
            device_scale_factor=1.5,
            color_scheme="dark" if args.dark else "light",
        )
        page = context.new_page()
        columns = "&".join(
            f"col={c}"
            for c in (
                "metrics.val_accuracy",
                "metrics.val_loss",
                "params.lr",
                "params.optimizer",
                "params.batch_size",
                "tags.team",
            )  # fmt: skip
        )
        page.goto(f"{live.url}/experiments/{exp}?{columns}&pin=metrics.val_accuracy")
        page.click("tr:has(a:text-is('lr-sweep')) .twisty")
        page.mouse.move(0, 0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=args.out)
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
