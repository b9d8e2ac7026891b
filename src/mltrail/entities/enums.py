"""Enumerations with MLflow's names and numbers (they travel on the wire by name)."""

from __future__ import annotations

from mltrail.exceptions import InvalidParameter


class RunStatus:
    """Run states. Stored and sent by name (``"RUNNING"``); numbers match MLflow's proto."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5

    _NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
    _NUMBERS = {v: k for k, v in _NAMES.items()}

    @classmethod
    def to_string(cls, status: int) -> str:
        try:
            return cls._NAMES[status]
        except KeyError:
            raise InvalidParameter(f"Unknown run status {status!r}.") from None

    @classmethod
    def from_string(cls, name: str) -> int:
        try:
            return cls._NUMBERS[name.upper()]
        except (KeyError, AttributeError):
            raise InvalidParameter(
                f"Unknown run status {name!r}; use one of {', '.join(cls._NUMBERS)}."
            ) from None

    @classmethod
    def normalize(cls, status: str | int) -> str:
        """Accept a name in any case or a number; return the canonical name."""
        if isinstance(status, int):
            return cls.to_string(status)
        return cls.to_string(cls.from_string(status))

    @classmethod
    def all_status(cls) -> list[int]:
        return list(cls._NAMES)

    @classmethod
    def is_terminated(cls, status: str | int) -> bool:
        name = cls.normalize(status)
        return name in ("FINISHED", "FAILED", "KILLED")


class ViewType:
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    _BY_NAME = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_string(cls, name: str) -> int:
        try:
            return cls._BY_NAME[name.upper()]
        except (KeyError, AttributeError):
            raise InvalidParameter(
                f"Unknown view type {name!r}; use ACTIVE_ONLY, DELETED_ONLY or ALL."
            ) from None

    @classmethod
    def to_string(cls, view_type: int) -> str:
        for name, number in cls._BY_NAME.items():
            if number == view_type:
                return name
        raise InvalidParameter(f"Unknown view type {view_type!r}.")

    @classmethod
    def normalize(cls, view_type: int | str | None) -> int:
        if view_type is None:
            return cls.ACTIVE_ONLY
        if isinstance(view_type, str):
            return cls.from_string(view_type)
        if view_type not in (1, 2, 3):
            raise InvalidParameter(f"Unknown view type {view_type!r}.")
        return view_type


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def stages_for(cls, view_type: int) -> list[str]:
        if view_type == ViewType.ACTIVE_ONLY:
            return [cls.ACTIVE]
        if view_type == ViewType.DELETED_ONLY:
            return [cls.DELETED]
        return [cls.ACTIVE, cls.DELETED]


class SourceType:
    NOTEBOOK = "NOTEBOOK"
    JOB = "JOB"
    PROJECT = "PROJECT"
    LOCAL = "LOCAL"
    UNKNOWN = "UNKNOWN"
