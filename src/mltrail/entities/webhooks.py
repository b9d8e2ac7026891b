"""Registry webhooks (MLflow 3): a URL told about registry events, as signed JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from mltrail.exceptions import InvalidParameter

# The registry events a webhook may ask for, as "entity.action" (MLflow's names).
WEBHOOK_EVENTS = (
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
)


def normalize_event(entity: object, action: object) -> str:
    """``"model_version.created"`` from an entity and an action in any case (the wire sends
    the proto's enum names, ``MODEL_VERSION`` and ``CREATED``)."""
    event = f"{str(entity).strip().lower()}.{str(action).strip().lower()}"
    if event not in WEBHOOK_EVENTS:
        raise InvalidParameter(
            f"Unknown webhook event {entity}.{action}: use one of {', '.join(WEBHOOK_EVENTS)}."
        )
    return event


@dataclass(slots=True)
class Webhook:
    webhook_id: str
    name: str
    url: str
    events: list[str]
    status: str = "ACTIVE"
    description: str | None = None
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    secret: str | None = field(default=None, repr=False)  # never sent back


@dataclass(slots=True)
class WebhookTestResult:
    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None
