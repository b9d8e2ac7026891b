"""Plain records of the tracking domain: experiments, runs and what is logged to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Metric:  # not frozen: a training loop creates millions, and frozen init is 5x slower
    """One value of a metric at a time and step (the same key logged again is a new point)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None


@dataclass(slots=True, frozen=True)
class Param:
    """A run's parameter: logged once, never changed."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class RunTag:
    """A run's tag: a key and a value that may be set again."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class ExperimentTag:
    """An experiment's tag."""

    key: str
    value: str


@dataclass(slots=True)
class Experiment:
    """An experiment: a named group of runs with a default artifact location."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(slots=True)
class RunInfo:
    """A run's identity and state: ids, name, status, times, stage and artifact root."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(slots=True)
class RunData:
    """What a run holds: the latest value of each metric, its params and its tags."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_objs: list[Metric] = field(default_factory=list)

    @property
    def _metric_objs(self) -> list[Metric]:  # MLflow's private name, used by some tools
        return self.metric_objs


@dataclass(slots=True, frozen=True)
class InputTag:
    """A tag on a dataset input (``mlflow.data.context``: train, eval...)."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class Dataset:
    """A dataset as logged: its name, digest, source, schema and profile."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(slots=True, frozen=True)
class DatasetInput:
    """A dataset a run used, with its input tags."""

    dataset: Dataset
    tags: tuple[InputTag, ...] = ()


@dataclass(slots=True, frozen=True)
class LoggedModelInput:
    """A logged model the run used (evaluated, fine-tuned...)."""

    model_id: str


@dataclass(slots=True, frozen=True)
class LoggedModelOutput:
    """A logged model the run produced, at a training step."""

    model_id: str
    step: int = 0


@dataclass(slots=True)
class RunInputs:
    """What a run used: datasets and logged models."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)


@dataclass(slots=True)
class RunOutputs:
    """What a run produced: logged models."""

    model_outputs: list[LoggedModelOutput] = field(default_factory=list)


@dataclass(slots=True)
class Run:
    """A run: its info, its data (metrics, params, tags), its inputs and outputs."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": {
                "run_id": self.info.run_id,
                "experiment_id": self.info.experiment_id,
                "run_name": self.info.run_name,
                "user_id": self.info.user_id,
                "status": self.info.status,
                "start_time": self.info.start_time,
                "end_time": self.info.end_time,
                "lifecycle_stage": self.info.lifecycle_stage,
                "artifact_uri": self.info.artifact_uri,
            },
            "data": {
                "metrics": dict(self.data.metrics),
                "params": dict(self.data.params),
                "tags": dict(self.data.tags),
            },
            "inputs": {
                "dataset_inputs": [
                    {
                        "dataset": {
                            "name": d.dataset.name,
                            "digest": d.dataset.digest,
                            "source_type": d.dataset.source_type,
                            "source": d.dataset.source,
                            "schema": d.dataset.schema,
                            "profile": d.dataset.profile,
                        },
                        "tags": {t.key: t.value for t in d.tags},
                    }
                    for d in self.inputs.dataset_inputs
                ],
                "model_inputs": [{"model_id": m.model_id} for m in self.inputs.model_inputs],
            },
            "outputs": {
                "model_outputs": [
                    {"model_id": m.model_id, "step": m.step} for m in self.outputs.model_outputs
                ]
            },
        }


@dataclass(slots=True, frozen=True)
class FileInfo:
    """An artifact listed under a run: its path, whether it is a folder, its size."""

    path: str
    is_dir: bool
    file_size: int | None = None


class PagedList(list):  # type: ignore[type-arg]
    """A list of results with the token of the next page (``None`` on the last page)."""

    def __init__(self, items: Any = (), token: str | None = None) -> None:
        list.__init__(self, items)
        self.token = token


def collect_pages(
    fetch: Callable[[int, str | None], PagedList], page_size: int, max_results: int | None = None
) -> list[Any]:
    """Every item of a paged search, or its first ``max_results``: ``fetch(size, token)`` is
    called for pages of at most ``page_size`` (the first with no token) until a page has no
    next token or enough have been found."""
    found: list[Any] = []
    token = None
    while True:
        size = page_size if max_results is None else min(page_size, max_results - len(found))
        page = fetch(size, token)
        found.extend(page)
        token = page.token
        if not token or (max_results is not None and len(found) >= max_results):
            return found
