"""Registry webhooks in the SQL database (the ``webhooks`` table of migration 0004)."""

from __future__ import annotations

import builtins
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities.webhooks import Webhook
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.search import paging
from mltrail.store.sql.common import now_ms
from mltrail.store.sql.engine import get_engine, transaction
from mltrail.store.sql.registry_schema import webhooks

_NAME = re.compile(r"^[A-Za-z0-9][\w.\- ]{0,62}$")
STATUSES = ("ACTIVE", "DISABLED")


class SqlWebhookStore:
    def __init__(self, db_uri: str) -> None:
        from mltrail.store.sql.store import migrate_database

        self.engine = get_engine(db_uri)
        migrate_database(self.engine)

    def create(
        self,
        name: str,
        url: str,
        events: Sequence[str],
        description: str | None = None,
        secret: str | None = None,
        status: str = "ACTIVE",
    ) -> Webhook:
        _check(name, events, status, secret)
        now = now_ms()
        hook = Webhook(uuid.uuid4().hex, name, url, list(dict.fromkeys(events)), status,
                       description or None, now, now, secret or None)  # fmt: skip
        with transaction(self.engine, write=True) as conn:
            conn.execute(webhooks.insert().values(**_row(hook)))
        return hook

    def get(self, webhook_id: str) -> Webhook:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(webhooks).where(webhooks.c.webhook_id == str(webhook_id))
            ).first()
        if row is None:
            raise NotFound(f"Webhook with ID {webhook_id} not found.")
        return _entity(row)

    def list(
        self, max_results: int = 100, page_token: str | None = None
    ) -> tuple[builtins.list[Webhook], str | None]:
        if not 1 <= max_results <= 1000:
            raise InvalidParameter("max_results must be between 1 and 1000.")
        offset = paging.decode_page_token(page_token)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(webhooks)
                .order_by(webhooks.c.creation_time, webhooks.c.webhook_id)
                .offset(offset)
                .limit(max_results + 1)
            ).all()
        token = paging.next_page_token(offset, max_results, len(rows))
        return [_entity(r) for r in rows[:max_results]], token

    def update(self, webhook_id: str, **changes: Any) -> Webhook:
        hook = self.get(webhook_id)
        for key, value in changes.items():
            if value is not None:
                setattr(hook, key, list(dict.fromkeys(value)) if key == "events" else value)
        _check(hook.name, hook.events, hook.status, hook.secret)
        hook.last_updated_timestamp = now_ms()
        with transaction(self.engine, write=True) as conn:
            conn.execute(
                webhooks.update()
                .where(webhooks.c.webhook_id == hook.webhook_id)
                .values(**_row(hook))
            )
        return hook

    def delete(self, webhook_id: str) -> None:
        with transaction(self.engine, write=True) as conn:
            gone = conn.execute(
                webhooks.delete().where(webhooks.c.webhook_id == str(webhook_id))
            ).rowcount
        if not gone:
            raise NotFound(f"Webhook with ID {webhook_id} not found.")

    def active_for(self, event: str) -> builtins.list[Webhook]:
        """Active webhooks that asked for ``event`` (few rows: filtered here)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(webhooks).where(webhooks.c.status == "ACTIVE")).all()
        return [hook for hook in map(_entity, rows) if event in hook.events]


def _check(name: str, events: Sequence[str], status: str, secret: str | None) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameter(
            f"Invalid webhook name {name!r}: 1 to 63 letters, digits, '_', '-', '.' or spaces, "
            "starting with a letter or digit."
        )
    if not events:
        raise InvalidParameter("A webhook needs at least one event, e.g. model_version.created.")
    if status not in STATUSES:
        raise InvalidParameter(f"Invalid webhook status {status!r}: use ACTIVE or DISABLED.")
    if secret is not None and len(secret) > 1000:
        raise InvalidParameter("A webhook secret must be at most 1000 characters.")


def _row(hook: Webhook) -> dict[str, Any]:
    return {
        "webhook_id": hook.webhook_id,
        "name": hook.name,
        "description": hook.description,
        "url": hook.url,
        "events": json.dumps(hook.events),
        "secret": hook.secret,
        "status": hook.status,
        "creation_time": hook.creation_timestamp,
        "last_updated_time": hook.last_updated_timestamp,
    }


def _entity(row: Any) -> Webhook:
    return Webhook(
        webhook_id=row.webhook_id,
        name=row.name,
        url=row.url,
        events=list(json.loads(row.events)),
        status=row.status,
        description=row.description,
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        secret=row.secret,
    )
