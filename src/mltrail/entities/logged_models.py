"""Logged models (MLflow 3's LoggedModel): a model's own record, apart from the runs that
produced or used it, with its artifacts under ``<experiment location>/models/<id>/artifacts``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mltrail.entities.tracking import Metric
from mltrail.exceptions import InvalidParameter


class LoggedModelStatus(StrEnum):
    """A logged model's upload state, spelled as MLflow's entity spells it (``"READY"``).

    The wire and the database use the proto's names (``"LOGGED_MODEL_READY"``, see
    ``wire_name``); numbers match the proto's. ``normalize`` takes any of these spellings."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    @property
    def wire_name(self) -> str:
        return _WIRE_NAMES[self]

    @classmethod
    def names(cls) -> list[str]:
        return list(_WIRE_NAMES.values())

    @classmethod
    def normalize(cls, status: object) -> LoggedModelStatus:
        """The status given by name (any case, short or long, or another library's enum) or
        by number."""
        status = getattr(status, "value", status)  # an enum of mlflow's, or our own
        found: LoggedModelStatus | None = None
        if isinstance(status, int) and not isinstance(status, bool):
            found = _BY_NUMBER.get(status)
        elif isinstance(status, str):
            key = status.strip().upper()
            found = _BY_NUMBER.get(int(key)) if key.isdigit() else _BY_NAME.get(key)
        if found is None:
            raise InvalidParameter(
                f"Unknown logged model status {status!r}; use one of {', '.join(cls.names())}."
            )
        return found

    @classmethod
    def to_number(cls, status: object) -> int:
        found = cls.normalize(status)
        return next(n for n, known in _BY_NUMBER.items() if known is found)


_WIRE_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_BY_NUMBER = dict(enumerate(_WIRE_NAMES))
# Every spelling a person or a client uses: READY, LOGGED_MODEL_READY, UPLOAD_FAILED...
_BY_NAME = {
    **{member.value: member for member in LoggedModelStatus},
    **{wire: member for member, wire in _WIRE_NAMES.items()},
    "STATUS_UNSPECIFIED": LoggedModelStatus.UNSPECIFIED,
    "UPLOAD_FAILED": LoggedModelStatus.FAILED,
}


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
    status: LoggedModelStatus = LoggedModelStatus.PENDING
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
