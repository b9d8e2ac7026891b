"""``log_input`` / ``log_inputs``: record the datasets (and models) a run used, MLflow's way:
the context (``training``, ``eval``...) is the input tag ``mlflow.data.context``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import DatasetInput, InputTag, LoggedModelInput
from mltrail.exceptions import InvalidParameter
from mltrail.tracking import fluent

CONTEXT_TAG = "mlflow.data.context"


def dataset_input(
    dataset: Any, context: str | None = None, tags: dict[str, Any] | None = None
) -> DatasetInput:
    if not hasattr(dataset, "_to_mlflow_entity"):
        raise InvalidParameter(
            f"log_input needs a dataset made by mltrail.data.from_pandas/from_numpy/from_spark, "
            f"not {type(dataset).__name__}."
        )
    input_tags = [InputTag(str(k), str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag(CONTEXT_TAG, str(context)))
    return DatasetInput(dataset._to_mlflow_entity(), tuple(input_tags))


def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: dict[str, Any] | None = None,
    model: Any = None,
) -> None:
    """Record that the active run used ``dataset`` (in ``context``, e.g. ``"training"``)."""
    log_inputs(
        [dataset] if dataset is not None else None,
        [context] if dataset is not None else None,
        [tags] if dataset is not None else None,
        [model] if model is not None else None,
    )


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[dict[str, Any] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    datasets = list(datasets or [])
    for name, values in (("contexts", contexts), ("tags_list", tags_list)):
        if values is not None and len(values) != len(datasets):
            raise InvalidParameter(f"log_inputs needs one entry of {name} per dataset.")
    inputs = [
        dataset_input(
            ds, (contexts or [None] * len(datasets))[i], (tags_list or [None] * len(datasets))[i]
        )
        for i, ds in enumerate(datasets)
    ]
    model_inputs = [LoggedModelInput(str(getattr(m, "model_id", m))) for m in models or []]
    client, run_id = fluent._writer()
    if inputs or model_inputs:
        client.flush()
        client.store.log_inputs(run_id, inputs, model_inputs)
