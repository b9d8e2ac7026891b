"""The model registry's records: registered models, their versions, tags and aliases.

Names and fields follow MLflow's ``RegisteredModel`` and ``ModelVersion`` so code written for
MLflow reads them unchanged (``version`` is a string on the wire and an int here, as in
MLflow's Python entities)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mltrail.exceptions import InvalidParameter


class ModelVersionStage:
    """The deprecated stages, kept because clients still send them. Matched in any case,
    stored and returned in this spelling."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"
    ALL = (NONE, STAGING, PRODUCTION, ARCHIVED)

    @classmethod
    def normalize(cls, stage: str) -> str:
        if isinstance(stage, str):
            for known in cls.ALL:
                if stage.strip().lower() == known.lower():
                    return known
        raise InvalidParameter(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(cls.ALL)}."
        )


class ModelVersionStatus:
    """A version's registration state (MLflow's proto numbers: 1, 2, 3)."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"
    ALL = (PENDING_REGISTRATION, FAILED_REGISTRATION, READY)


@dataclass(slots=True, frozen=True)
class RegisteredModelTag:
    key: str
    value: str


@dataclass(slots=True, frozen=True)
class ModelVersionTag:
    key: str
    value: str


@dataclass(slots=True, frozen=True)
class RegisteredModelAlias:
    alias: str
    version: str


@dataclass(slots=True)
class ModelVersion:
    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    source: str
    current_stage: str = ModelVersionStage.NONE
    description: str | None = None
    user_id: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    model_id: str | None = None
    storage_location: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def download_uri(self) -> str:
        """Where the files are: the resolved location, else the source as given."""
        return self.storage_location or self.source


@dataclass(slots=True)
class RegisteredModel:
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # alias -> version, as MLflow's Python entity exposes it
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)
