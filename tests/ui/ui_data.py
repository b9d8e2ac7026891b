"""Test data for the UI, written straight through the tracking store."""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from pathlib import Path

from mltrail.artifacts import get_artifact_repository
from mltrail.entities import Metric, Param, RunTag

NOW = int(time.time() * 1000)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def make_run(
    store,
    experiment_id: str,
    name: str,
    params: dict[str, str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    tags: dict[str, str] | None = None,
    status: str = "FINISHED",
    start: int | None = None,
    duration_ms: int = 90_000,
) -> str:
    start = start if start is not None else NOW - 3_600_000
    run_tags = [RunTag(k, v) for k, v in (tags or {}).items()]
    run = store.create_run(experiment_id, "alice", start, run_tags, run_name=name)
    run_id = run.info.run_id
    points = [
        Metric(key, value, start + step * 1000, step)
        for key, values in (metrics or {}).items()
        for step, value in enumerate(values)
    ]
    store.write_batch(
        run_id,
        metrics=points,
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
    )
    if status != "RUNNING":
        store.update_run_info(run_id, status=status, end_time=start + duration_ms)
    return run_id


def curve(n: int, lr: float, seed: int) -> list[float]:
    rnd = random.Random(seed)
    return [math.exp(-lr * 40 * i / n) + rnd.uniform(0, 0.05) for i in range(n)]


def demo_experiment(store, name: str | None = None) -> tuple[str, dict[str, str]]:
    """An experiment with a small sweep: parents, children, two optimizers, three seeds."""
    exp = store.create_experiment(name or unique("demo"))
    ids: dict[str, str] = {}
    for opt_i, opt in enumerate(("adam", "sgd")):
        for seed in range(3):
            lr = 0.01 * (opt_i + 1) * (seed + 1)
            ids[f"{opt}-{seed}"] = make_run(
                store,
                exp,
                f"{opt}-seed{seed}",
                params={"optimizer": opt, "lr": lr, "seed": seed, "epochs": 30},
                metrics={
                    "loss": curve(60, lr * 10, seed + opt_i * 10),
                    "accuracy": [1 - v / 2 for v in curve(60, lr * 10, seed + 7)],
                },
                tags={"team": "vision" if seed < 2 else "nlp"},
                start=NOW - (10 - seed - opt_i * 3) * 600_000,
            )
    parent = make_run(store, exp, "sweep-parent", params={"grid": "lr"}, start=NOW - 7_200_000)
    ids["parent"] = parent
    for i in range(3):
        ids[f"child-{i}"] = make_run(
            store,
            exp,
            f"child-{i}",
            params={"lr": 0.1 * (i + 1)},
            metrics={"loss": curve(20, 0.5 + i, i)},
            tags={"mlflow.parentRunId": parent},
            start=NOW - 7_100_000 + i,
        )
    return exp, ids


def write_artifacts(store, settings, run_id: str) -> None:
    """One file of every previewable kind under the run's artifact folder."""
    from mltrail.server.ui.artifact_access import run_artifacts

    run = store.get_run(run_id)
    arts = run_artifacts(settings, run.info.artifact_uri)
    folder = Path(settings.artifacts_destination).parent / f"src-{run_id}"
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "train.log").write_text(
        "".join(f"epoch {i}: loss={1 / (i + 1):.4f}\n" for i in range(50)) + "<script>x</script>\n"
    )
    (folder / "metrics.json").write_text(json.dumps({"best": {"loss": 0.12, "epoch": 7}}))
    (folder / "config.yaml").write_text("optimizer: adam\nlr: 0.01\nlayers: [64, 32]\n")
    (folder / "predictions.csv").write_text(
        "id,label,score\n"
        + "".join(f"{i},{'cat' if i % 2 else 'dog'},{i / 10}\n" for i in range(20))
    )
    (folder / "report.html").write_text(
        "<html><body><h1 id='h'>Report</h1><script>document.getElementById('h')"
        ".textContent='script ran'; parent.document.title='pwned';</script></body></html>"
    )
    (folder / "plot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">'
        '<rect width="120" height="60" fill="#4e79a7"/><script>alert(1)</script></svg>'
    )
    (folder / "model" / "MLmodel").write_text(
        "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mltrail.sklearn\n"
        "    python_version: 3.11.9\n  sklearn:\n    sklearn_version: 1.5.0\n"
        f"run_id: {run_id}\nutc_time_created: '2024-05-01 10:00:00.000000'\n"
        'signature:\n  inputs: \'[{"type": "double", "name": "x"}, '
        '{"type": "string", "name": "city"}]\'\n'
        '  outputs: \'[{"type": "tensor", "tensor-spec": {"dtype": "float64", '
        '"shape": [-1]}}]\'\n'
    )
    (folder / "model" / "model.pkl").write_bytes(b"\x80\x04\x95\x00binary\x00data")
    try:
        import pandas as pd

        frame = pd.DataFrame({"a": range(1000), "b": [f"row{i}" for i in range(1000)]})
        frame.to_parquet(folder / "table.parquet")
    except ImportError:
        pass
    repo = get_artifact_repository(arts.repo.artifact_uri)
    repo.log_artifacts(str(folder), arts.root)
