"""Training and evaluation data recorded as run inputs (``log_datasets=True``), under MLflow's
name ``dataset`` and context tags ``train`` / ``eval``."""

from __future__ import annotations

from typing import Any

from mltrail.autologging import runs


def dataset_for(x: Any, y: Any = None, name: str = "dataset") -> Any:
    from mltrail.data import from_numpy, from_pandas

    if type(x).__name__ == "DataFrame" and type(x).__module__.startswith("pandas"):
        return from_pandas(x, name=name)
    return from_numpy(x, targets=y, name=name)


def log_training_set(run_id: str, x: Any, y: Any = None, context: str = "train") -> Any:
    from mltrail.tracking.fluent_inputs import dataset_input

    dataset = dataset_for(x, y)
    writer = runs.client()
    writer.flush()
    writer.store.log_inputs(run_id, [dataset_input(dataset, context)])
    return dataset
