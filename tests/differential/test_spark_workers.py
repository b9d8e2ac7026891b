"""Points logged from Spark's Python workers are all stored when the job returns.

Spark runs Python tasks in worker processes forked from a daemon and reuses them; a worker
ends with ``os._exit``, so a point left in a buffer there would be lost. mltrail writes through
in such a worker (it sees ``PYTHON_WORKER_FACTORY_SECRET`` in its environment)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import mltrail


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_points_from_spark_workers_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import SparkSession

    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # workers need this venv's mltrail

    def log_partition(items: Any) -> Any:
        # Defined here so that Spark pickles it by value (workers cannot import test modules).
        import mltrail as worker_mltrail
        from mltrail.tracking.buffer import in_worker_process

        worker_client = worker_mltrail.MlflowClient(uri)
        for i in items:
            worker_client.log_metric(run_id, "from_spark", float(i), step=i)
        yield (os.getpid(), in_worker_process())

    uri = f"sqlite:///{tmp_path / 'spark.db'}"
    client = mltrail.MlflowClient(uri)
    run_id = client.create_run(client.create_experiment("spark")).info.run_id
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mltrail-workers")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        found = spark.sparkContext.parallelize(range(40), 4).mapPartitions(log_partition).collect()
        # Read at once: nothing may be waiting in a worker's buffer.
        history = client.get_metric_history(run_id, "from_spark")
    finally:
        spark.stop()
    assert all(write_through for _, write_through in found)
    assert sorted(m.step for m in history) == list(range(40))
