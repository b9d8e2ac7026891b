"""Logged models (MLflow 3's LoggedModel): a model's own record, apart from the runs that
produced or used it, with its artifacts under ``<experiment location>/models/<id>/artifacts``."""

from __future__ import annotations

from dataclasses import dataclass, field

from mltrail.entities.tracking import Metric
from mltrail.exceptions import InvalidParameter


class LoggedModelStatus:
    """A logged model's upload state. Stored and sent by name (``"LOGGED_MODEL_READY"``);
    numbers match MLflow's proto."""

    UNSPECIFIED = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    _BY_NUMBER = {0: UNSPECIFIED, 1: PENDING, 2: READY, 3: FAILED}
    # Short spellings a person types in a filter or a call: READY, PENDING, UPLOAD_FAILED...
    _BY_NAME = {
        **{name: name for name in _BY_NUMBER.values()},
        "STATUS_UNSPECIFIED": UNSPECIFIED,
        "UNSPECIFIED": UNSPECIFIED,
        "PENDING": PENDING,
        "READY": READY,
        "UPLOAD_FAILED": FAILED,
        "FAILED": FAILED,
    }

    @classmethod
    def names(cls) -> list[str]:
        return list(cls._BY_NUMBER.values())

    @classmethod
    def normalize(cls, status: str | int) -> str:
        """The canonical name of a status given by name (any case, short or long) or number."""
        if isinstance(status, int) and not isinstance(status, bool):
            found = cls._BY_NUMBER.get(status)
        elif isinstance(status, str):
            key = status.strip().upper()
            found = cls._BY_NUMBER.get(int(key)) if key.isdigit() else cls._BY_NAME.get(key)
        else:
            found = None
        if found is None:
            raise InvalidParameter(
                f"Unknown logged model status {status!r}; use one of {', '.join(cls.names())}."
            )
        return found

    @classmethod
    def to_number(cls, status: str) -> int:
        name = cls.normalize(status)
        return next(n for n, known in cls._BY_NUMBER.items() if known == name)


@dataclass(slots=True, frozen=True)
class LoggedModelTag:
    key: str
    value: str


@dataclass(slots=True, frozen=True)
class LoggedModelParameter:
    key: str
    value: str


LoggedModelParam = LoggedModelParameter


@dataclass(slots=True)
class LoggedModel:
    """One logged model. ``metrics`` are the run metrics logged with its ``model_id``."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = LoggedModelStatus.PENDING
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    lifecycle_stage: str = "active"

    @property
    def artifact_uri(self) -> str:  # the wire's name for it
        return self.artifact_location

    @property
    def model_uri(self) -> str:
        """What loads it: ``models:/<model_id>``."""
        return f"models:/{self.model_id}"
