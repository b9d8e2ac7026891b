"""The answers of create requests kept by their ``Idempotency-Key`` (``mltrail_idempotency_keys``,
shared by every worker); ``mltrail.server.idempotency`` serves the header."""

from __future__ import annotations

import random
import time
from typing import Any

import sqlalchemy as sa

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.store.sql.server_tables import ensure_server_tables, idempotency_keys

KEEP_MS = 24 * 3600 * 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


class IdempotencyKeys:
    """The answers of create requests, by key."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.enabled = ensure_server_tables(engine)

    def claim(self, key: str, route: str, digest: str) -> tuple[int | None, bytes | None] | None:
        """``None``: the caller is first and must answer, then ``keep`` or ``release``.
        Otherwise the stored ``(status, body)``; status ``None`` while the first is running."""
        from mltrail.store.sql.engine import transaction

        for attempt in range(2):
            try:
                with transaction(self.engine, write=True) as conn:
                    row = conn.execute(
                        sa.select(
                            idempotency_keys.c.route,
                            idempotency_keys.c.request_hash,
                            idempotency_keys.c.status,
                            idempotency_keys.c.body,
                        ).where(idempotency_keys.c.idem_key == key)
                    ).first()
                    if row is None:
                        conn.execute(
                            idempotency_keys.insert().values(
                                idem_key=key, route=route, request_hash=digest, created_ms=_now_ms()
                            )
                        )
                        if random.random() < 0.01:
                            self._purge(conn)
                        return None
            except MltrailException:
                if attempt == 1:
                    raise
                continue  # another worker inserted the same key at the same moment
            if (row.route, row.request_hash) != (route, digest):
                raise InvalidParameter(
                    f"The Idempotency-Key {key!r} was already used for a different request; "
                    "use a new key for each distinct create."
                )
            return row.status, row.body
        return None  # not reached

    def keep(self, key: str, status: int, body: bytes) -> None:
        from mltrail.store.sql.engine import transaction

        with transaction(self.engine, write=True) as conn:
            conn.execute(
                idempotency_keys.update()
                .where(idempotency_keys.c.idem_key == key)
                .values(status=status, body=body)
            )

    def release(self, key: str) -> None:
        from mltrail.store.sql.engine import transaction

        with transaction(self.engine, write=True) as conn:
            conn.execute(idempotency_keys.delete().where(idempotency_keys.c.idem_key == key))

    def _purge(self, conn: Any) -> None:
        cutoff = _now_ms() - KEEP_MS
        conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_ms < cutoff))
